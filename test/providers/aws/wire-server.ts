// A loopback stand-in for AWS Secrets Manager, SSM Parameter Store and STS AssumeRole, speaking the
// wire protocols the real SDK v3 clients use. Test-only; listens on 127.0.0.1 only; no signature check.
//
// Protocols (per the AWS API references):
//   Secrets Manager and SSM: AWS JSON 1.1 — `POST /`, `Content-Type: application/x-amz-json-1.1`,
//     `X-Amz-Target: secretsmanager.<Operation>` / `AmazonSSM.<Operation>`, JSON body; timestamps
//     as epoch seconds, blobs as base64; errors as HTTP 400/500 with `{"__type": "...", "message"}`.
//   STS: AWS Query — form-encoded `Action=AssumeRole&...`, XML result, XML `<ErrorResponse>` errors.
//
// Secrets Manager (https://docs.aws.amazon.com/secretsmanager/latest/apireference/):
//   GetSecretValue (SecretId = name, ARN or partial ARN; VersionId and/or VersionStage, default
//   AWSCURRENT), BatchGetSecretValue (SecretIdList ≤ 20; missing ids in `Errors[]`), CreateSecret
//   (ResourceExistsException; KmsKeyId, Description, Tags), PutSecretValue (new version takes
//   AWSCURRENT, the old current AWSPREVIOUS; idempotent ClientRequestToken), UpdateSecret,
//   DeleteSecret (RecoveryWindowInDays 7–30, default 30; ForceDeleteWithoutRecovery; not both),
//   RestoreSecret, TagResource (adds or overwrites tags; Key ≤ 128, Value ≤ 256, ≤ 50 tags;
//   InvalidParameterException, LimitExceededException), ListSecrets (name filter = prefix, MaxResults ≤ 100, NextToken; scheduled
//   deletions hidden), ListSecretVersionIds (versions without a stage hidden), RotateSecret (needs a
//   Lambda ARN, given or configured; RotationRules with AutomaticallyAfterDays 1–1000 or a
//   ScheduleExpression `rate(N days)`/`cron(...)`, not both; RotateImmediately, default true: the fake
//   Lambda puts a new random AWSCURRENT at once), DescribeSecret (rotation settings, next rotation
//   date, VersionIdsToStages), UpdateSecretVersionStage (MoveToVersionId / RemoveFromVersionId; a
//   label attached elsewhere needs RemoveFromVersionId naming that version; moving AWSCURRENT moves
//   AWSPREVIOUS to the version it left; a version left without labels is deprecated: hidden from
//   ListSecretVersionIds and unreadable by stage).
//   A secret scheduled for deletion answers InvalidRequestException ("marked for deletion").
// SSM (https://docs.aws.amazon.com/systems-manager/latest/APIReference/):
//   GetParameter (a name or ARN; `name:version` / `name:label` selectors; ParameterNotFound,
//   ParameterVersionNotFound), GetParameters (≤ 10 names; unknown ones in InvalidParameters),
//   PutParameter (Overwrite, ParameterAlreadyExists, Type required on create; hierarchical names
//   start with `/`), DeleteParameter, GetParametersByPath (Path starts with `/`, Recursive,
//   MaxResults ≤ 10, NextToken), GetParameterHistory (MaxResults ≤ 50), DescribeParameters (Name
//   BeginsWith/Equals filters, MaxResults ≤ 50). SecureString values come back encrypted unless
//   WithDecryption is true.
//
// Test hooks: request counts per target, the access key id of each request, fault injection
// (throttle, internal error, access denied, expired token, unknown client, decryption failure,
// hang, and answers that are not JSON: a proxy's HTML 500 and an S3/CloudFront-style XML 403)
// for N requests of a target.

import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  FailureQueue,
  type Loopback,
  readBody,
  sendJson,
  sendPage,
  serveLoopback,
} from '../../servers/loopback.js';

const ACCOUNT = '123456789012';

export type FaultKind =
  | 'throttle'
  | 'internal'
  | 'denied'
  | 'expired'
  | 'unrecognized'
  | 'decryption'
  | 'hang'
  | 'html500'
  | 'xml403';

/** Faults answered with a body the JSON protocol cannot parse (a proxy or CDN in the way). */
const RAW_FAULTS = {
  html500: {
    status: 500,
    type: 'text/html',
    body: '<html><head><title>500 Internal Server Error</title></head><body><center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center></body></html>',
  },
  xml403: {
    status: 403,
    type: 'application/xml',
    body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>WIRE403</RequestId></Error>',
  },
} as const;
type RawFault = keyof typeof RAW_FAULTS;

export interface Fault {
  /** `secretsmanager.GetSecretValue`, `AmazonSSM.GetParameters`, `sts.AssumeRole`; a RegExp; or every target. */
  target?: string | RegExp;
  kind: FaultKind;
  /** How many matching requests fail; default all, until cleared. */
  times?: number;
  /** Matching requests answered normally before the fault applies (default 0). */
  after?: number;
}

export interface WireRequest {
  target: string;
  body: Record<string, unknown>;
  /** From the SigV4 `Authorization` header. */
  accessKeyId?: string;
  sessionToken?: string;
}

interface SecretVersion {
  id: string;
  string?: string;
  binary?: Buffer;
  stages: Set<string>;
  created: Date;
}

interface Secret {
  name: string;
  arn: string;
  description?: string;
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  created: Date;
  changed: Date;
  deleted?: Date;
  rotationLambda?: string;
  /** RotationRules as RotateSecret set them (AutomaticallyAfterDays or ScheduleExpression). */
  rotationRules?: {
    AutomaticallyAfterDays?: number;
    ScheduleExpression?: string;
    Duration?: string;
  };
  lastRotated?: Date;
  versions: SecretVersion[];
}

interface ParameterVersion {
  version: number;
  value: string;
  type: string;
  description?: string;
  keyId?: string;
  labels: string[];
  modified: Date;
}

interface Parameter {
  name: string;
  versions: ParameterVersion[];
}

class WireError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const FAULTS: Record<
  Exclude<FaultKind, 'hang' | RawFault>,
  (service: 'sm' | 'ssm' | 'sts', target: string) => WireError
> = {
  throttle: () => new WireError('ThrottlingException', 'Rate exceeded'),
  internal: (s) =>
    s === 'sm'
      ? new WireError('InternalServiceError', 'An error occurred on the server side.', 500)
      : new WireError('InternalServerError', 'An error occurred on the server side.', 500),
  denied: (s, target) =>
    new WireError(
      s === 'sts' ? 'AccessDenied' : 'AccessDeniedException',
      `User: arn:aws:iam::${ACCOUNT}:user/test is not authorized to perform: ${target.replace('AmazonSSM.', 'ssm:').replace('secretsmanager.', 'secretsmanager:')} because no identity-based policy allows it`,
      s === 'sts' ? 403 : 400,
    ),
  expired: (s) =>
    new WireError(
      s === 'sts' ? 'ExpiredToken' : 'ExpiredTokenException',
      'The security token included in the request is expired',
    ),
  unrecognized: () =>
    new WireError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    ),
  decryption: () =>
    new WireError(
      'DecryptionFailure',
      "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
    ),
};

const epoch = (d: Date) => d.getTime() / 1000;
const suffix = () => randomBytes(4).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6);
const ciphertext = (value: string) =>
  Buffer.from(`kms:${randomBytes(8).toString('hex')}:${value.length}`).toString('base64');

/** The fake AWS: one store per server, shared by all clients pointed at it. */
export class AwsWire {
  readonly secrets = new Map<string, Secret>();
  readonly parameters = new Map<string, Parameter>();
  readonly requests: WireRequest[] = [];
  private readonly counts = new Map<string, number>();
  private readonly faults = new FailureQueue<Fault>(Number.POSITIVE_INFINITY);
  private readonly secretFaults = new Map<string, Exclude<FaultKind, 'hang' | RawFault>>();
  private loopback!: Loopback;
  private hanging: ServerResponse[] = [];
  private latency = 0;
  url = '';

  /** Start on 127.0.0.1 and a free port. */
  static async start(): Promise<AwsWire> {
    const wire = new AwsWire();
    wire.loopback = await serveLoopback(
      (req, res) => wire.handle(req, res),
      (res, error) =>
        wire.sendJson(res, 500, { __type: 'InternalFailure', message: String(error) }),
    );
    wire.url = wire.loopback.url;
    return wire;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging = [];
    await this.loopback.close();
  }

  /** Requests received for `target` (`secretsmanager.BatchGetSecretValue`), faulted ones included. */
  count(target: string): number {
    return this.counts.get(target) ?? 0;
  }

  /** Every target's count. */
  countsByTarget(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  resetCounts(): void {
    this.counts.clear();
    this.requests.length = 0;
  }

  fault(fault: Fault): void {
    this.faults.add(fault);
  }

  /**
   * Make reads of one secret fail with `kind` (denied, decryption, ...): GetSecretValue answers the
   * error, BatchGetSecretValue lists it in `Errors[]`. `undefined` heals it.
   */
  failSecret(name: string, kind: Exclude<FaultKind, 'hang' | RawFault> | undefined): void {
    if (kind) this.secretFaults.set(name, kind);
    else this.secretFaults.delete(name);
  }

  /** Delay every answer by `ms` (a network round trip; 0 turns it off). */
  setLatency(ms: number): void {
    this.latency = ms;
  }

  clearFaults(): void {
    this.faults.clear();
    this.secretFaults.clear();
    for (const res of this.hanging) res.destroy();
    this.hanging = [];
  }

  /** Seed a Secrets Manager secret (or a new AWSCURRENT version of it); returns the version id. */
  putSecret(
    name: string,
    value: string | Buffer,
    options: { stages?: string[]; description?: string } = {},
  ): string {
    let secret = this.secrets.get(name);
    if (!secret) {
      const now = new Date();
      secret = {
        name,
        arn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-${suffix()}`,
        tags: [],
        created: now,
        changed: now,
        description: options.description,
        versions: [],
      };
      this.secrets.set(name, secret);
    }
    return this.addVersion(secret, randomUUID(), value, options.stages);
  }

  /** Seed an SSM parameter (a new version when it exists). */
  putParameter(name: string, value: string, type = 'SecureString'): number {
    const p = this.parameters.get(name) ?? { name, versions: [] };
    this.parameters.set(name, p);
    const version = (p.versions.at(-1)?.version ?? 0) + 1;
    p.versions.push({ version, value, type, labels: [], modified: this.tick() });
    return version;
  }

  // Distinct, increasing timestamps, so ordering by date is stable within one millisecond.
  private last = 0;
  private tick(): Date {
    this.last = Math.max(Date.now(), this.last + 1);
    return new Date(this.last);
  }

  private addVersion(
    secret: Secret,
    id: string,
    value: string | Buffer,
    stages: string[] = ['AWSCURRENT'],
  ): string {
    for (const stage of stages) {
      for (const v of secret.versions) {
        if (!v.stages.has(stage)) continue;
        v.stages.delete(stage);
        if (stage === 'AWSCURRENT') {
          for (const w of secret.versions) w.stages.delete('AWSPREVIOUS');
          v.stages.add('AWSPREVIOUS');
        }
      }
    }
    secret.versions.push({
      id,
      ...(typeof value === 'string' ? { string: value } : { binary: value }),
      stages: new Set(stages),
      created: this.tick(),
    });
    secret.changed = new Date();
    return id;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (await readBody(req)).toString('utf8');
    if (this.latency) await new Promise((r) => setTimeout(r, this.latency));
    const amzTarget = req.headers['x-amz-target'];
    const isSts = !amzTarget && String(req.headers['content-type']).includes('form-urlencoded');
    let target: string;
    let body: Record<string, unknown>;
    if (isSts) {
      body = Object.fromEntries(new URLSearchParams(raw));
      target = `sts.${body.Action}`;
    } else {
      target = String(amzTarget);
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        body = {};
      }
    }
    const service = isSts ? 'sts' : target.startsWith('AmazonSSM.') ? 'ssm' : 'sm';
    const auth = String(req.headers.authorization ?? '');
    this.requests.push({
      target,
      body,
      accessKeyId: /Credential=([^/]+)\//.exec(auth)?.[1],
      sessionToken: req.headers['x-amz-security-token'] as string | undefined,
    });
    this.counts.set(target, (this.counts.get(target) ?? 0) + 1);

    const fault = this.faults.take(
      (f) =>
        f.target === undefined ||
        (typeof f.target === 'string' ? f.target === target : f.target.test(target)),
    );
    try {
      if (fault) {
        if (fault.kind === 'hang') {
          this.hanging.push(res);
          return;
        }
        if (fault.kind === 'html500' || fault.kind === 'xml403') {
          const raw = RAW_FAULTS[fault.kind];
          return sendPage(res, raw.status, raw.type, raw.body);
        }
        throw FAULTS[fault.kind](service, target);
      }
      if (isSts) return this.sendXml(res, 200, this.sts(target, body));
      const operation = target.slice(target.indexOf('.') + 1);
      const result = service === 'ssm' ? this.ssm(operation, body) : this.sm(operation, body);
      this.sendJson(res, 200, result);
    } catch (error) {
      const e =
        error instanceof WireError
          ? error
          : new WireError('InternalFailure', String((error as Error).message), 500);
      if (isSts) {
        this.sendXml(
          res,
          e.status === 400 ? 403 : e.status,
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${e.type}</Code><Message>${e.message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
        );
      } else {
        this.sendJson(res, e.status, { __type: e.type, message: e.message });
      }
    }
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    sendJson(res, status, body, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
    });
  }

  private sendXml(res: ServerResponse, status: number, body: string): void {
    sendPage(res, status, 'text/xml', body);
  }

  // ---- STS ----------------------------------------------------------------------------------

  private sts(target: string, body: Record<string, unknown>): string {
    if (target !== 'sts.AssumeRole') throw new WireError('InvalidAction', `${target} unsupported`);
    const roleArn = String(body.RoleArn ?? '');
    const session = String(body.RoleSessionName ?? '');
    if (!roleArn.startsWith('arn:aws:iam::') || !session) {
      throw new WireError('ValidationError', 'RoleArn and RoleSessionName are required');
    }
    const seconds = Number(body.DurationSeconds ?? 3600);
    const expiration = new Date(Date.now() + seconds * 1000).toISOString();
    const role = roleArn.split('/').pop();
    return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAWIRE${randomBytes(6).toString('hex').toUpperCase()}</AccessKeyId><SecretAccessKey>${randomBytes(20).toString('base64url')}</SecretAccessKey><SessionToken>wire-session-${randomBytes(8).toString('hex')}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAWIRE:${session}</AssumedRoleId><Arn>arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`;
  }

  // ---- Secrets Manager ----------------------------------------------------------------------

  /** Find by name, full ARN, or partial ARN (without the 6-character suffix). */
  private findSecret(id: unknown): Secret | undefined {
    const key = String(id ?? '');
    if (!key.startsWith('arn:')) return this.secrets.get(key);
    for (const s of this.secrets.values()) {
      if (s.arn === key || s.arn.slice(0, -7) === key) return s;
    }
    return undefined;
  }

  private liveSecret(id: unknown): Secret {
    const s = this.findSecret(id);
    if (!s) {
      throw new WireError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    if (s.deleted) {
      throw new WireError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return s;
  }

  /** A secret to read: live, and not made to fail by {@link failSecret}. */
  private readableSecret(id: unknown): Secret {
    const s = this.liveSecret(id);
    const kind = this.secretFaults.get(s.name);
    if (kind) throw FAULTS[kind]('sm', 'secretsmanager.GetSecretValue');
    return s;
  }

  private pickVersion(s: Secret, body: Record<string, unknown>): SecretVersion {
    const id = body.VersionId as string | undefined;
    const stage = (body.VersionStage as string | undefined) ?? (id ? undefined : 'AWSCURRENT');
    const v = s.versions.find((x) => (!id || x.id === id) && (!stage || x.stages.has(stage)));
    if (!v) {
      throw new WireError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for ${id ? `VersionId: ${id}` : `staging label: ${stage}`}`,
      );
    }
    return v;
  }

  private valueEntry(s: Secret, v: SecretVersion): Record<string, unknown> {
    return {
      ARN: s.arn,
      Name: s.name,
      VersionId: v.id,
      ...(v.string !== undefined ? { SecretString: v.string } : {}),
      ...(v.binary ? { SecretBinary: v.binary.toString('base64') } : {}),
      VersionStages: [...v.stages],
      CreatedDate: epoch(v.created),
    };
  }

  private valueOfBody(body: Record<string, unknown>): string | Buffer | undefined {
    if (typeof body.SecretString === 'string') return body.SecretString;
    if (typeof body.SecretBinary === 'string') return Buffer.from(body.SecretBinary, 'base64');
    return undefined;
  }

  private page<T>(items: T[], body: Record<string, unknown>, max: number, fallback: number) {
    const limit = Number(body.MaxResults ?? fallback);
    if (!Number.isInteger(limit) || limit < 1 || limit > max) {
      throw new WireError('ValidationException', `MaxResults must be between 1 and ${max}`);
    }
    const start = body.NextToken
      ? Number(Buffer.from(String(body.NextToken), 'base64').toString())
      : 0;
    if (!Number.isInteger(start) || start < 0) {
      throw new WireError('InvalidNextTokenException', 'The NextToken value is invalid.');
    }
    const slice = items.slice(start, start + limit);
    const next =
      start + limit < items.length
        ? Buffer.from(String(start + limit)).toString('base64')
        : undefined;
    return { slice, next };
  }

  private sm(operation: string, body: Record<string, unknown>): unknown {
    switch (operation) {
      case 'GetSecretValue': {
        const s = this.readableSecret(body.SecretId);
        return this.valueEntry(s, this.pickVersion(s, body));
      }
      case 'BatchGetSecretValue': {
        const ids = body.SecretIdList as string[] | undefined;
        if (body.Filters && ids) {
          throw new WireError(
            'InvalidParameterException',
            'Specify either Filters or SecretIdList, not both.',
          );
        }
        if (!ids)
          throw new WireError(
            'InvalidParameterException',
            'SecretIdList is required by this fake.',
          );
        if (ids.length < 1 || ids.length > 20) {
          throw new WireError(
            'ValidationException',
            'SecretIdList must hold between 1 and 20 ids.',
          );
        }
        const SecretValues: unknown[] = [];
        const Errors: unknown[] = [];
        for (const id of ids) {
          try {
            const s = this.readableSecret(id);
            SecretValues.push(this.valueEntry(s, this.pickVersion(s, {})));
          } catch (error) {
            const e = error as WireError;
            Errors.push({ SecretId: id, ErrorCode: e.type, Message: e.message });
          }
        }
        return { SecretValues, Errors };
      }
      case 'CreateSecret': {
        const name = String(body.Name ?? '');
        if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) {
          throw new WireError(
            'InvalidParameterException',
            'The secret name has characters that are not allowed.',
          );
        }
        const existing = this.secrets.get(name);
        if (existing?.deleted) {
          throw new WireError(
            'InvalidRequestException',
            "You can't create this secret because a secret with this name is already scheduled for deletion.",
          );
        }
        if (existing) {
          throw new WireError(
            'ResourceExistsException',
            `The operation failed because the secret ${name} already exists.`,
          );
        }
        const now = new Date();
        const secret: Secret = {
          name,
          arn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-${suffix()}`,
          description: body.Description as string | undefined,
          kmsKeyId: body.KmsKeyId as string | undefined,
          tags: (body.Tags as Secret['tags'] | undefined) ?? [],
          created: now,
          changed: now,
          versions: [],
        };
        this.secrets.set(name, secret);
        const value = this.valueOfBody(body);
        const versionId =
          value === undefined
            ? undefined
            : this.addVersion(secret, String(body.ClientRequestToken ?? randomUUID()), value);
        return { ARN: secret.arn, Name: name, ...(versionId ? { VersionId: versionId } : {}) };
      }
      case 'PutSecretValue':
      case 'UpdateSecret': {
        const s = this.liveSecret(body.SecretId);
        if (operation === 'UpdateSecret') {
          if (body.Description !== undefined) s.description = String(body.Description);
          if (body.KmsKeyId !== undefined) s.kmsKeyId = String(body.KmsKeyId);
        }
        const value = this.valueOfBody(body);
        if (value === undefined) {
          if (operation === 'PutSecretValue') {
            throw new WireError(
              'InvalidParameterException',
              'You must provide either SecretString or SecretBinary.',
            );
          }
          s.changed = new Date();
          return { ARN: s.arn, Name: s.name };
        }
        const token = String(body.ClientRequestToken ?? randomUUID());
        const same = s.versions.find((v) => v.id === token);
        if (same) {
          const equal =
            typeof value === 'string' ? same.string === value : same.binary?.equals(value);
          if (!equal) {
            throw new WireError(
              'ResourceExistsException',
              'A version with this ClientRequestToken already exists with a different value.',
            );
          }
          return { ARN: s.arn, Name: s.name, VersionId: same.id, VersionStages: [...same.stages] };
        }
        const stages = (body.VersionStages as string[] | undefined) ?? ['AWSCURRENT'];
        const id = this.addVersion(s, token, value, stages);
        return { ARN: s.arn, Name: s.name, VersionId: id, VersionStages: stages };
      }
      case 'TagResource': {
        // Adds the tags, overwriting a key already there; an empty 200 answer.
        const s = this.liveSecret(body.SecretId);
        const tags = (body.Tags as Array<{ Key?: string; Value?: string }> | undefined) ?? [];
        for (const t of tags) {
          if (!t.Key || t.Key.length > 128 || (t.Value ?? '').length > 256) {
            throw new WireError('InvalidParameterException', 'You provided an invalid tag.');
          }
        }
        const merged = new Map(s.tags.map((t) => [t.Key, t.Value]));
        for (const t of tags) merged.set(t.Key!, t.Value ?? '');
        if (merged.size > 50) {
          throw new WireError('LimitExceededException', 'The request exceeds the tag limit of 50.');
        }
        s.tags = [...merged].map(([Key, Value]) => ({ Key, Value })) as typeof s.tags;
        return {};
      }
      case 'DeleteSecret': {
        const s = this.findSecret(body.SecretId);
        if (!s)
          throw new WireError(
            'ResourceNotFoundException',
            "Secrets Manager can't find the specified secret.",
          );
        if (body.ForceDeleteWithoutRecovery && body.RecoveryWindowInDays !== undefined) {
          throw new WireError(
            'InvalidParameterException',
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
          );
        }
        if (body.ForceDeleteWithoutRecovery) {
          this.secrets.delete(s.name);
          return { ARN: s.arn, Name: s.name, DeletionDate: epoch(new Date()) };
        }
        if (s.deleted) {
          throw new WireError(
            'InvalidRequestException',
            "You can't perform this operation on the secret because it was marked for deletion.",
          );
        }
        const days = Number(body.RecoveryWindowInDays ?? 30);
        if (!Number.isInteger(days) || days < 7 || days > 30) {
          throw new WireError(
            'InvalidParameterException',
            'RecoveryWindowInDays must be between 7 and 30.',
          );
        }
        s.deleted = new Date(Date.now() + days * 86_400_000);
        return { ARN: s.arn, Name: s.name, DeletionDate: epoch(s.deleted) };
      }
      case 'RestoreSecret': {
        const s = this.findSecret(body.SecretId);
        if (!s)
          throw new WireError(
            'ResourceNotFoundException',
            "Secrets Manager can't find the specified secret.",
          );
        s.deleted = undefined;
        return { ARN: s.arn, Name: s.name };
      }
      case 'ListSecrets': {
        const filters =
          (body.Filters as Array<{ Key: string; Values: string[] }> | undefined) ?? [];
        const all = [...this.secrets.values()].filter(
          (s) =>
            (body.IncludePlannedDeletion || !s.deleted) &&
            filters.every(
              (f) => f.Key !== 'name' || f.Values.some((value) => s.name.startsWith(value)),
            ),
        );
        const { slice, next } = this.page(all, body, 100, 100);
        return {
          SecretList: slice.map((s) => ({
            ARN: s.arn,
            Name: s.name,
            ...(s.description ? { Description: s.description } : {}),
            ...(s.kmsKeyId ? { KmsKeyId: s.kmsKeyId } : {}),
            ...(s.tags.length ? { Tags: s.tags } : {}),
            RotationEnabled: !!s.rotationLambda,
            CreatedDate: epoch(s.created),
            LastChangedDate: epoch(s.changed),
            ...(s.deleted ? { DeletedDate: epoch(s.deleted) } : {}),
            SecretVersionsToStages: Object.fromEntries(
              s.versions.filter((v) => v.stages.size).map((v) => [v.id, [...v.stages]]),
            ),
          })),
          ...(next ? { NextToken: next } : {}),
        };
      }
      case 'ListSecretVersionIds': {
        const s = this.liveSecret(body.SecretId);
        const versions = s.versions.filter((v) => body.IncludeDeprecated || v.stages.size);
        const { slice, next } = this.page(versions, body, 100, 100);
        return {
          ARN: s.arn,
          Name: s.name,
          Versions: slice.map((v) => ({
            VersionId: v.id,
            VersionStages: [...v.stages],
            CreatedDate: epoch(v.created),
          })),
          ...(next ? { NextToken: next } : {}),
        };
      }
      case 'RotateSecret': {
        const s = this.liveSecret(body.SecretId);
        const lambda = (body.RotationLambdaARN as string | undefined) ?? s.rotationLambda;
        if (!lambda) {
          throw new WireError(
            'InvalidRequestException',
            'No Lambda rotation function ARN is associated with this secret.',
          );
        }
        const rules = body.RotationRules as Secret['rotationRules'] | undefined;
        if (rules) {
          const days = rules.AutomaticallyAfterDays;
          const schedule = rules.ScheduleExpression;
          if (days !== undefined && schedule !== undefined) {
            throw new WireError(
              'InvalidParameterException',
              'You can specify either AutomaticallyAfterDays or ScheduleExpression, not both.',
            );
          }
          if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 1000)) {
            throw new WireError(
              'InvalidParameterException',
              'AutomaticallyAfterDays must be between 1 and 1000.',
            );
          }
          if (
            schedule !== undefined &&
            !/^(rate\(\d+ (hours?|days?)\)|cron\(.+\))$/.test(String(schedule))
          ) {
            throw new WireError(
              'InvalidParameterException',
              'The ScheduleExpression is not a valid rate() or cron() expression.',
            );
          }
          s.rotationRules = rules;
        }
        s.rotationLambda = lambda;
        if (body.RotateImmediately === false) return { ARN: s.arn, Name: s.name };
        // The rotation Lambda's four steps, done at once: a new version becomes AWSCURRENT.
        const id = this.addVersion(
          s,
          String(body.ClientRequestToken ?? randomUUID()),
          `rotated-${randomBytes(12).toString('base64url')}`,
        );
        s.lastRotated = new Date();
        return { ARN: s.arn, Name: s.name, VersionId: id };
      }
      case 'DescribeSecret': {
        const s = this.findSecret(body.SecretId);
        if (!s) {
          throw new WireError(
            'ResourceNotFoundException',
            "Secrets Manager can't find the specified secret.",
          );
        }
        const days =
          s.rotationRules?.AutomaticallyAfterDays ??
          Number(/^rate\((\d+) days?\)$/.exec(s.rotationRules?.ScheduleExpression ?? '')?.[1]);
        const from = s.lastRotated ?? s.created;
        return {
          ARN: s.arn,
          Name: s.name,
          ...(s.description ? { Description: s.description } : {}),
          ...(s.kmsKeyId ? { KmsKeyId: s.kmsKeyId } : {}),
          RotationEnabled: !!s.rotationLambda,
          ...(s.rotationLambda ? { RotationLambdaARN: s.rotationLambda } : {}),
          ...(s.rotationRules ? { RotationRules: s.rotationRules } : {}),
          ...(s.lastRotated ? { LastRotatedDate: epoch(s.lastRotated) } : {}),
          ...(s.rotationLambda && days
            ? { NextRotationDate: epoch(new Date(from.getTime() + days * 86_400_000)) }
            : {}),
          LastChangedDate: epoch(s.changed),
          CreatedDate: epoch(s.created),
          ...(s.deleted ? { DeletedDate: epoch(s.deleted) } : {}),
          ...(s.tags.length ? { Tags: s.tags } : {}),
          VersionIdsToStages: Object.fromEntries(
            s.versions.filter((v) => v.stages.size).map((v) => [v.id, [...v.stages]]),
          ),
        };
      }
      case 'UpdateSecretVersionStage': {
        const s = this.liveSecret(body.SecretId);
        const stage = body.VersionStage as string | undefined;
        if (!stage) throw new WireError('InvalidParameterException', 'VersionStage is required.');
        const remove = body.RemoveFromVersionId as string | undefined;
        const move = body.MoveToVersionId as string | undefined;
        const holder = s.versions.find((v) => v.stages.has(stage));
        const byId = (id: string) => {
          const v = s.versions.find((x) => x.id === id);
          if (!v) {
            throw new WireError(
              'ResourceNotFoundException',
              `Secrets Manager can't find the specified secret value for VersionId: ${id}`,
            );
          }
          return v;
        };
        const target = move === undefined ? undefined : byId(move);
        if (remove !== undefined) {
          byId(remove);
          if (holder?.id !== remove) {
            throw new WireError(
              'InvalidParameterException',
              `The staging label ${stage} is not attached to version ${remove}.`,
            );
          }
        }
        if (target && holder && holder !== target && remove !== holder.id) {
          throw new WireError(
            'InvalidParameterException',
            `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
          );
        }
        if (!target && remove === undefined) {
          throw new WireError(
            'InvalidParameterException',
            'You must specify MoveToVersionId, RemoveFromVersionId, or both.',
          );
        }
        if (holder && remove === holder.id && holder !== target) holder.stages.delete(stage);
        if (target) {
          target.stages.add(stage);
          if (stage === 'AWSCURRENT' && holder && holder !== target) {
            for (const v of s.versions) v.stages.delete('AWSPREVIOUS');
            holder.stages.add('AWSPREVIOUS');
          }
        }
        s.changed = new Date();
        return { ARN: s.arn, Name: s.name };
      }
      default:
        throw new WireError(
          'UnknownOperationException',
          `secretsmanager.${operation} is not supported by this fake`,
        );
    }
  }

  // ---- SSM ----------------------------------------------------------------------------------

  private parameterJson(p: Parameter, v: ParameterVersion, decrypt: boolean, selector?: string) {
    return {
      Name: p.name,
      Type: v.type,
      Value: v.type === 'SecureString' && !decrypt ? ciphertext(v.value) : v.value,
      Version: v.version,
      ...(selector ? { Selector: selector } : {}),
      LastModifiedDate: epoch(v.modified),
      ARN: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter${p.name.startsWith('/') ? '' : '/'}${p.name}`,
      DataType: 'text',
    };
  }

  /** `name`, `name:3` or `name:label` → the parameter and the version. */
  private lookupParameter(full: string): { p: Parameter; v: ParameterVersion; selector?: string } {
    // An ARN names `parameter/prod/x` for `/prod/x` and `parameter/x` for `x`.
    const fromArn = /^arn:aws:ssm:[^:]*:\d*:parameter\/(.+)$/.exec(full)?.[1];
    if (fromArn !== undefined) {
      const p = this.parameters.get(fromArn.includes('/') ? `/${fromArn}` : fromArn);
      if (!p) throw new WireError('ParameterNotFound', `Parameter ${full} not found.`);
      return { p, v: p.versions.at(-1)! };
    }
    const colon = full.lastIndexOf(':');
    const name = colon > 0 ? full.slice(0, colon) : full;
    const selector = colon > 0 ? full.slice(colon + 1) : undefined;
    const p = this.parameters.get(name);
    if (!p) throw new WireError('ParameterNotFound', `Parameter ${name} not found.`);
    if (selector === undefined) return { p, v: p.versions.at(-1)! };
    const v = /^\d+$/.test(selector)
      ? p.versions.find((x) => x.version === Number(selector))
      : p.versions.find((x) => x.labels.includes(selector));
    if (!v) {
      throw new WireError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${selector} of ${name}.`,
      );
    }
    return { p, v, selector: `:${selector}` };
  }

  private ssm(operation: string, body: Record<string, unknown>): unknown {
    const decrypt = body.WithDecryption === true;
    switch (operation) {
      case 'GetParameter': {
        const { p, v, selector } = this.lookupParameter(String(body.Name ?? ''));
        return { Parameter: this.parameterJson(p, v, decrypt, selector) };
      }
      case 'GetParameters': {
        const names = (body.Names as string[] | undefined) ?? [];
        if (names.length < 1 || names.length > 10) {
          throw new WireError(
            'ValidationException',
            "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10",
          );
        }
        const Parameters: unknown[] = [];
        const InvalidParameters: string[] = [];
        for (const name of names) {
          try {
            const { p, v, selector } = this.lookupParameter(name);
            const json = this.parameterJson(p, v, decrypt, selector);
            // Asked by ARN, the answer is named by the ARN (as for parameters shared across accounts).
            Parameters.push(name.startsWith('arn:') ? { ...json, Name: name } : json);
          } catch {
            InvalidParameters.push(name);
          }
        }
        return { Parameters, InvalidParameters };
      }
      case 'PutParameter': {
        const name = String(body.Name ?? '');
        if (name.includes('/') && !name.startsWith('/')) {
          throw new WireError(
            'ValidationException',
            'Parameter name: must be a fully qualified name.',
          );
        }
        if (body.Tags && body.Overwrite) {
          throw new WireError(
            'ValidationException',
            "Invalid request: tags and overwrite can't be used together.",
          );
        }
        const existing = this.parameters.get(name);
        if (existing && !body.Overwrite) {
          throw new WireError(
            'ParameterAlreadyExists',
            'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
          );
        }
        const type = (body.Type as string | undefined) ?? existing?.versions.at(-1)?.type;
        if (!type)
          throw new WireError(
            'ValidationException',
            'A parameter type is required when you create a parameter.',
          );
        const p = existing ?? { name, versions: [] };
        this.parameters.set(name, p);
        const version = (p.versions.at(-1)?.version ?? 0) + 1;
        p.versions.push({
          version,
          value: String(body.Value ?? ''),
          type,
          description: body.Description as string | undefined,
          keyId: body.KeyId as string | undefined,
          labels: [],
          modified: this.tick(),
        });
        return { Version: version, Tier: (body.Tier as string | undefined) ?? 'Standard' };
      }
      case 'DeleteParameter': {
        const name = String(body.Name ?? '');
        if (!this.parameters.delete(name))
          throw new WireError('ParameterNotFound', `Parameter ${name} not found.`);
        return {};
      }
      case 'GetParametersByPath': {
        const path = String(body.Path ?? '');
        if (!path.startsWith('/'))
          throw new WireError(
            'ValidationException',
            'The path must begin with a forward slash (/).',
          );
        const base = path.endsWith('/') ? path : `${path}/`;
        const matching = [...this.parameters.values()]
          .filter((p) => {
            if (!p.name.startsWith(base)) return false;
            return body.Recursive === true || !p.name.slice(base.length).includes('/');
          })
          .sort((a, b) => a.name.localeCompare(b.name));
        const { slice, next } = this.page(matching, body, 10, 10);
        return {
          Parameters: slice.map((p) => this.parameterJson(p, p.versions.at(-1)!, decrypt)),
          ...(next ? { NextToken: next } : {}),
        };
      }
      case 'GetParameterHistory': {
        const name = String(body.Name ?? '');
        const p = this.parameters.get(name);
        if (!p) throw new WireError('ParameterNotFound', `Parameter ${name} not found.`);
        const { slice, next } = this.page(p.versions, body, 50, 50);
        return {
          Parameters: slice.map((v) => ({
            Name: p.name,
            Type: v.type,
            Value: v.type === 'SecureString' && !decrypt ? ciphertext(v.value) : v.value,
            Version: v.version,
            LastModifiedDate: epoch(v.modified),
            LastModifiedUser: 'arn:aws:iam::123456789012:user/wire-test',
            Labels: v.labels,
            ...(v.description ? { Description: v.description } : {}),
            ...(v.keyId ? { KeyId: v.keyId } : {}),
            Tier: 'Standard',
            DataType: 'text',
          })),
          ...(next ? { NextToken: next } : {}),
        };
      }
      case 'DescribeParameters': {
        const filters =
          (body.ParameterFilters as
            | Array<{ Key: string; Option?: string; Values: string[] }>
            | undefined) ?? [];
        const matching = [...this.parameters.values()]
          .filter((p) =>
            filters.every(
              (f) =>
                f.Key !== 'Name' ||
                f.Values.some((value) =>
                  f.Option === 'BeginsWith' ? p.name.startsWith(value) : p.name === value,
                ),
            ),
          )
          .sort((a, b) => a.name.localeCompare(b.name));
        const { slice, next } = this.page(matching, body, 50, 50);
        return {
          Parameters: slice.map((p) => {
            const v = p.versions.at(-1)!;
            return {
              Name: p.name,
              Type: v.type,
              Version: v.version,
              LastModifiedDate: epoch(v.modified),
              ...(v.description ? { Description: v.description } : {}),
              Tier: 'Standard',
              DataType: 'text',
            };
          }),
          ...(next ? { NextToken: next } : {}),
        };
      }
      default:
        throw new WireError(
          'InvalidAction',
          `AmazonSSM.${operation} is not supported by this fake`,
        );
    }
  }
}
