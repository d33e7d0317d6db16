/**
 * The S3 client of `s3://bucket/key` inputs and outputs (issue #17), configured as the AWS CLI would be:
 * region from `AWS_REGION` or `AWS_DEFAULT_REGION` (else us-east-1), credentials from the SDK's default chain
 * (environment, `~/.aws` profiles, SSO, web identity, container and instance roles), and an S3-compatible
 * server from `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (MinIO, Ceph, Cloud Storage's interoperability API),
 * addressed path-style (`http://host/bucket/key`) since such servers rarely have a DNS name per bucket.
 *
 * Also: what S3's refusals mean to a user, as BatchInferErrors with the URL, never a key or a secret.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { BatchInferError, ErrorCodes, show, type ErrorCode } from '../errors.js';

export interface S3Location {
  bucket: string;
  key: string;
}

/** `s3://bucket/key` → its bucket and key (the key as written: S3 keys are not percent-encoded). */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.+)$/i.exec(url);
  const bucket = match?.[1];
  const key = match?.[2];
  if (bucket === undefined || key === undefined || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid S3 URL ${show(url)}: expected s3://<bucket>/<key>, a bucket of 3 to 63 lowercase letters, digits, dots and hyphens`,
    );
  return { bucket, key };
}

/** A client configured from `env` (process.env by default): see the module's header. */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  // The SDK warns on Node 20 of its own releases from 2027 on; batch-infer pins it, so a user can do nothing.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint === undefined || endpoint === ''
      ? { followRegionRedirects: true }
      : { endpoint, forcePathStyle: true }),
    // The SDK's default CRC32 checksums (2025) are refused by many S3-compatible servers (older Ceph and MinIO,
    // Cloud Storage); S3 itself needs them only where an operation requires one. TLS guards the bytes.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

let shared: S3Client | undefined;

/** One client for the process, made on first use, so connections are reused across a run's requests. */
export function defaultS3Client(): S3Client {
  return (shared ??= createS3Client());
}

/** What S3's error names mean, in words. */
const REASONS: Readonly<Record<string, string>> = {
  NoSuchKey: 'no such object',
  NotFound: 'no such object',
  NoSuchBucket: 'no such bucket',
  AccessDenied: 'access denied',
  Forbidden: 'access denied',
  AllAccessDisabled: 'access denied',
  InvalidAccessKeyId: 'the access key is not known to the server',
  SignatureDoesNotMatch: 'the secret key does not match the access key',
  ExpiredToken: 'the session token has expired',
  InvalidToken: 'the session token is not valid',
  TokenRefreshRequired: 'the session token has expired',
  CredentialsProviderError:
    'no credentials found (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or a role)',
  PreconditionFailed: 'the object changed while it was being read',
  InvalidRange: 'the range asked for is past its end',
  PermanentRedirect: 'the bucket is in another region (set AWS_REGION)',
  AuthorizationHeaderMalformed: 'the bucket is in another region (set AWS_REGION)',
};

/** Connection failures: the endpoint cannot be reached at all. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ETIMEDOUT',
]);

/**
 * A failed S3 request as a BatchInferError: a missing object is BI_ERR_INPUT_NOT_FOUND; a missing bucket,
 * refused credentials and an unreachable endpoint are BI_ERR_ACCESS; anything else is `otherwise` (ACCESS for
 * reads, OUTPUT_WRITE for uploads). An abort passes through as it is.
 */
export function s3Error(name: string, verb: 'read' | 'write', cause: unknown, otherwise: ErrorCode): Error {
  const err = cause as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (err.name === 'AbortError' || err instanceof BatchInferError) return cause as Error;
  const errorName = typeof err.name === 'string' ? err.name : '';
  const status = err.$metadata?.httpStatusCode;
  const context = { file: name, ...(status === undefined ? {} : { status }) };
  const code = typeof err.code === 'string' ? err.code : '';
  if (UNREACHABLE.has(code) || errorName === 'TimeoutError') {
    // Node's message names the address (`connect ECONNREFUSED 127.0.0.1:9000`), the server the user set.
    const why = typeof err.message === 'string' && err.message !== '' ? err.message : code || errorName;
    return new BatchInferError(ErrorCodes.ACCESS, `Cannot reach the S3 server for ${show(name)}: ${why}`, {
      cause,
      context,
    });
  }
  const reason = REASONS[errorName];
  const detail = `${reason ?? (typeof err.message === 'string' ? err.message : errorName)} (${[errorName, status === undefined ? '' : `HTTP ${status}`].filter(Boolean).join(', ')})`;
  const resultCode =
    errorName === 'NoSuchKey' || errorName === 'NotFound'
      ? ErrorCodes.INPUT_NOT_FOUND
      : reason !== undefined || status === 401 || status === 403
        ? ErrorCodes.ACCESS
        : otherwise;
  return new BatchInferError(resultCode, `Cannot ${verb} ${show(name)}: ${detail}`, { cause, context });
}
