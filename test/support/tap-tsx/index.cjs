// Runs the TypeScript tests with tsx, as the CLI and the examples run, instead of @tapjs/typescript's ts-node
// fork: that fork's copy of Node's resolver refuses the `./src/*.js` subpath exports through which
// hyparquet-writer imports hyparquet (ERR_PACKAGE_PATH_NOT_EXPORTED), where Node and tsx follow the package.
exports.importLoader = 'tsx';
exports.preload = true;
exports.testFileExtensions = ['ts'];
exports.plugin = () => ({});
