// `aws` retirement and native rotation through the real @aws-sdk/client-secrets-manager against the
// wire server: after the grace period a rotation's old version loses its staging labels
// (UpdateSecretVersionStage), so `previous` is gone; a failed `test` moves AWSCURRENT back; RotateSecret
// carries RotationRules (AutomaticallyAfterDays or ScheduleExpression) that DescribeSecret reflects.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import {
  DescribeSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { aws } from '../../../src/providers/aws/secrets-manager.js';
import { createResolver } from '../../../src/resolver/client.js';
import { KEYS, startFileWire } from './fixtures.js';

const wire = await startFileWire();
const make = () => aws({ region: 'us-east-1', endpoint: wire.url, credentials: KEYS });
const sdk = new SecretsManagerClient({
  region: 'us-east-1',
  endpoint: wire.url,
  credentials: KEYS,
});
let n = 0;
const fresh = (what: string) => `retire${process.pid}-${n++}-${what}`;
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-db';

const resolverWith = () =>
  createResolver({ providers: [make()], cache: false, audit: false, env: {} });

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return toEnvmuxError(error).code;
  }
}

describe('aws: retirement', () => {
  it('keeps previous for the grace period, then removes its labels: previous is gone', async () => {
    const name = fresh('grace');
    const old = wire.putSecret(name, 'old-value');
    const resolver = resolverWith();
    const [outcome] = await resolver.rotate(name, { grace: 200, generate: () => 'new-value' });
    expect(outcome?.previous).toBe(old);
    expect(await resolver.get(name, { version: 'previous' })).toBe('old-value');
    expect(await resolver.retireExpired()).toEqual([]); // not due yet
    await new Promise((r) => setTimeout(r, 250));
    expect(await resolver.retireExpired()).toMatchObject([{ name, version: old }]);
    expect(
      wire.requests.filter((r) => r.target === 'secretsmanager.UpdateSecretVersionStage').at(-1)
        ?.body,
    ).toEqual({ SecretId: name, VersionStage: 'AWSPREVIOUS', RemoveFromVersionId: old });
    // Not readable by stage any more; the current value is untouched.
    expect(await codeOf(resolver.get(name, { version: 'previous' }))).toBe('NOT_FOUND');
    expect(await make().get(name, { version: 'previous' })).toBeUndefined();
    expect(await resolver.get(name)).toBe('new-value');
    expect((await make().versions!(name, {})).map((v) => v.version)).not.toContain(old);
  });

  it('a failed test rolls back: AWSCURRENT moves back to the old version', async () => {
    const name = fresh('rollback');
    const old = wire.putSecret(name, 'stable');
    const resolver = resolverWith();
    const code = await codeOf(
      resolver.rotate(name, {
        generate: () => 'broken-new',
        test: () => {
          throw new Error('login failed with broken-new');
        },
      }),
    );
    expect(code).toBeTruthy();
    expect(await resolver.get(name)).toBe('stable');
    const versions = await make().versions!(name, {});
    expect(versions.find((v) => v.version === old)?.stages).toContain('AWSCURRENT');
    expect(versions).toHaveLength(1); // the new one is unlabeled (deprecated)
  });

  it('UpdateSecretVersionStage errors as documented', async () => {
    const name = fresh('stage-errors');
    const v1 = wire.putSecret(name, 'one');
    const v2 = wire.putSecret(name, 'two');
    // AWSCURRENT is on v2: moving it without naming v2 in RemoveFromVersionId is refused.
    await expect(
      sdk.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: v1,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(
      sdk.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: 'ffffffffffffffffffffffffffffffff',
          RemoveFromVersionId: v2,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await sdk.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: v1,
        RemoveFromVersionId: v2,
      }),
    );
    const { VersionIdsToStages } = await sdk.send(new DescribeSecretCommand({ SecretId: name }));
    expect(VersionIdsToStages).toEqual({ [v1]: ['AWSCURRENT'], [v2]: ['AWSPREVIOUS'] });
  });
});

describe('aws: native rotation (RotateSecret with a schedule)', () => {
  it('rotate --lambda --schedule 30d: RotationRules.AutomaticallyAfterDays, shown by DescribeSecret', async () => {
    const name = fresh('schedule');
    wire.putSecret(name, 'before');
    const resolver = resolverWith();
    const [outcome] = await resolver.rotate(name, { lambda: LAMBDA, schedule: '30d' });
    expect(outcome?.version).toBeTruthy();
    const sent = wire.requests.filter((r) => r.target === 'secretsmanager.RotateSecret').at(-1);
    expect(sent?.body).toMatchObject({
      SecretId: name,
      RotationLambdaARN: LAMBDA,
      RotationRules: { AutomaticallyAfterDays: 30 },
      RotateImmediately: true,
    });
    const described = await sdk.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: LAMBDA,
      RotationRules: { AutomaticallyAfterDays: 30 },
    });
    expect(described.NextRotationDate!.getTime() - described.LastRotatedDate!.getTime()).toBe(
      30 * 86_400_000,
    );
    expect(await resolver.get(name)).not.toBe('before');
  });

  it('takes an AWS schedule expression, and refuses a bad schedule before any call', async () => {
    const name = fresh('expression');
    wire.putSecret(name, 'before');
    const resolver = resolverWith();
    await resolver.rotate(name, { lambda: LAMBDA, schedule: 'rate(10 days)' });
    const described = await sdk.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.RotationRules).toEqual({ ScheduleExpression: 'rate(10 days)' });
    const before = wire.count('secretsmanager.RotateSecret');
    expect(await codeOf(resolver.rotate(name, { lambda: LAMBDA, schedule: 'monthly' }))).toBe(
      'CONFIG',
    );
    expect(await codeOf(resolver.rotate(name, { schedule: '30d', generate: () => 'x' }))).toBe(
      'CONFIG',
    );
    expect(wire.count('secretsmanager.RotateSecret')).toBe(before);
  });

  it('RotateSecret errors as documented (no Lambda; both rules; days out of range)', async () => {
    const name = fresh('rotate-errors');
    wire.putSecret(name, 'before');
    await expect(sdk.send(new RotateSecretCommand({ SecretId: name }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    await expect(
      sdk.send(
        new RotateSecretCommand({
          SecretId: name,
          RotationLambdaARN: LAMBDA,
          RotationRules: { AutomaticallyAfterDays: 5, ScheduleExpression: 'rate(5 days)' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(
      sdk.send(
        new RotateSecretCommand({
          SecretId: name,
          RotationLambdaARN: LAMBDA,
          RotationRules: { AutomaticallyAfterDays: 1001 },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    // RotateImmediately false: the schedule is set, no new version.
    const versions = (await make().versions!(name, {})).length;
    await sdk.send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: LAMBDA,
        RotationRules: { AutomaticallyAfterDays: 7 },
        RotateImmediately: false,
      }),
    );
    expect((await make().versions!(name, {})).length).toBe(versions);
    expect((await sdk.send(new DescribeSecretCommand({ SecretId: name }))).RotationRules).toEqual({
      AutomaticallyAfterDays: 7,
    });
  });
});

describe('aws: a retirement carried across processes in a secret tag', () => {
  it('a new resolver retires the old version once the grace period is over, not before', async () => {
    const name = fresh('cross');
    const old = wire.putSecret(name, 'cross-old-value');
    await resolverWith().rotate(name, { grace: 300, generate: () => 'cross-new-value' });
    // The tag holds a version id and a date, never a value.
    const tag = wire.requests.filter((r) => r.target === 'secretsmanager.TagResource').at(-1)
      ?.body as { Tags: Array<{ Key: string; Value: string }> };
    expect(tag.Tags).toEqual([{ Key: 'envmux.retire', Value: expect.stringMatching(/^.+@.+Z$/) }]);
    expect(tag.Tags[0]!.Value.startsWith(`${old}@`)).toBe(true);
    expect(JSON.stringify(tag)).not.toMatch(/cross-(old|new)-value/);

    const other = resolverWith(); // another process: nothing scheduled in memory
    const lists = () =>
      wire.requests.filter((r) => r.target === 'secretsmanager.ListSecrets').length;
    const before = lists();
    expect(await other.retireExpired()).toEqual([]);
    expect(lists() - before).toBe(1); // one list call answers every marker
    expect(await other.get(name, { version: 'previous' })).toBe('cross-old-value');
    await new Promise((r) => setTimeout(r, 350));
    expect(await resolverWith().retireExpired()).toMatchObject([{ name, version: old }]);
    expect(await codeOf(resolverWith().get(name, { version: 'previous' }))).toBe('NOT_FOUND');
    expect(await resolverWith().get(name)).toBe('cross-new-value');
  });
});

describe('aws: plain sets during the grace period keep the pending retirement', () => {
  it('tags belong to the secret and TagResource only adds; the old version loses its label to the sets', async () => {
    const name = fresh('hand');
    const old = wire.putSecret(name, 'hand-old-value');
    const resolver = resolverWith();
    await resolver.rotate(name, { grace: 300, generate: () => 'hand-new-value' });
    await resolver.set(name, 'hand-set-1', { description: 'by hand' });
    await resolver.set(name, 'hand-set-2', { metadata: { team: 'payments' } });
    await resolver.set(name, 'hand-set-3');
    const [info] = (await make().list!(name, {})).filter((i) => i.name === name);
    expect(info?.metadata).toEqual({
      team: 'payments',
      'envmux.retire': expect.stringMatching(new RegExp(`^${old}@.+Z$`)),
    });
    // AWS moves AWSPREVIOUS along on each write: the old version is left without a staging label
    // (what retiring it does), so when it is due there is nothing left to do.
    expect((await make().versions!(name, {})).map((v) => v.version)).not.toContain(old);
    expect(await resolverWith().get(name, { version: 'previous' })).toBe('hand-set-2');
    await new Promise((r) => setTimeout(r, 350));
    expect(await resolverWith().retireExpired()).toEqual([]);
    expect(await resolverWith().get(name)).toBe('hand-set-3');
  });
});

describe('aws: a rolled-back rotation', () => {
  it('puts the marker from before back: a later set does not make the restored version retire', async () => {
    const name = fresh('undone');
    wire.putSecret(name, 'undone-1');
    const failed = resolverWith().rotate(name, {
      grace: 100,
      generate: () => 'undone-2',
      test: () => {
        throw new Error('no login');
      },
    });
    expect(await codeOf(failed)).toBeTruthy();
    const [info] = (await make().list!(name, {})).filter((i) => i.name === name);
    expect(info?.metadata?.['envmux.retire'] ?? '').toBe('');
    await resolverWith().set(name, 'undone-by-hand'); // the restored version becomes AWSPREVIOUS
    await new Promise((r) => setTimeout(r, 150));
    expect((await resolverWith().retireExpired()).filter((r) => r.name === name)).toEqual([]);
    expect(await resolverWith().get(name, { version: 'previous' })).toBe('undone-1');
  });
});
