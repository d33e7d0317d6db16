/**
 * The names a model directory may have: letters, digits, `_`, `.` and `-`, starting with a letter or digit, at
 * most 255 bytes (the usual file-name limit). The repository loads nothing else, and request paths naming
 * anything else are refused before a route sees them (server/http/model-path.ts), so no name can reach a file
 * outside the repository.
 */
export const MODEL_NAME = /^[A-Za-z0-9][\w.-]{0,254}$/;
