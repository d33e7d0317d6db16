/**
 * The security options through `batch-infer serve` (issue #10 point 6): the inference token from
 * `BATCH_INFER_INFERENCE_TOKEN` (kept out of `ps`) or `--inference-token`, `--metrics-access`, repeated
 * `--cors-origin`, the connection limits, and usage errors for bad values.
 */
import t from 'tap';
import { runCli, serveCli } from '../cli/spawn-cli.js';

t.test('BATCH_INFER_INFERENCE_TOKEN guards inference; probes stay open', async (t) => {
  process.env.BATCH_INFER_INFERENCE_TOKEN = 'from-env';
  const server = await serveCli(t).finally(() => delete process.env.BATCH_INFER_INFERENCE_TOKEN);
  t.equal((await fetch(`${server.url}/v2`)).status, 401);
  t.equal((await fetch(`${server.url}/v2`, { headers: { authorization: 'Bearer from-env' } })).status, 200);
  t.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
  t.equal((await fetch(`${server.url}/ping`)).status, 200);
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);
});

t.test('flags: token, metrics access, CORS origins and limits', async (t) => {
  const server = await serveCli(t, [
    '--inference-token',
    'flag-token',
    '--metrics-access',
    'token',
    '--cors-origin',
    'https://a.example.com',
    '--cors-origin',
    'https://b.example.com',
    '--headers-timeout',
    '2s',
    '--receive-timeout',
    '5s',
    '--keep-alive-timeout',
    '1s',
    '--max-header-size',
    '4096',
  ]);
  const auth = { authorization: 'Bearer flag-token' };
  t.equal((await fetch(`${server.url}/metrics`)).status, 401, '/metrics wants the token');
  t.equal((await fetch(`${server.url}/metrics`, { headers: auth })).status, 200);
  for (const origin of ['https://a.example.com', 'https://b.example.com']) {
    const preflight = await fetch(`${server.url}/v2/models/weather/infer`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    t.equal(preflight.status, 204, `${origin} may call`);
    t.equal(preflight.headers.get('access-control-allow-origin'), origin);
  }
  const big = await fetch(`${server.url}/v2/health/live`, { headers: { 'x-big': 'a'.repeat(5_000) } });
  t.equal(big.status, 431, 'headers over --max-header-size get 431');
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);
});

t.test('bad values are usage errors (exit 2) naming the flag', async (t) => {
  // One refused by the flag parser, one by the server's option checks (security-access and limits test the rest).
  const cases: [string[], RegExp][] = [
    [['--max-header-size', '100'], /--max-header-size/],
    [['--cors-origin', 'app.example.com'], /corsOrigins/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(['serve', '--port', '0', ...args]);
    t.equal(result.code, 2, `${args.join(' ')}: exit 2`);
    t.match(result.stderr, message);
  }
});

t.test('serve --help lists the security flags and their variables', async (t) => {
  const { code, stdout } = await runCli(['serve', '--help']);
  t.equal(code, 0);
  for (const flag of [
    'inference-token',
    'metrics-access',
    'cors-origin',
    'headers-timeout',
    'receive-timeout',
    'keep-alive-timeout',
    'max-header-size',
  ]) {
    t.match(stdout, `--${flag}`);
    t.match(stdout, `BATCH_INFER_${flag.toUpperCase().replaceAll('-', '_')}`);
  }
});
