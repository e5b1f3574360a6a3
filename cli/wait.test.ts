import { JobKind, PodKind, type KubeObject } from '../messages';
import { CliError } from './errors';
import { resourceName } from '../messages';
import { parseTimeout, parseWaitFor, waitMet } from './wait';

const pod = (status: unknown): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status });

describe('mk wait --for', () => {
  it('parses condition, delete and jsonpath', () => {
    expect(parseWaitFor('condition=Complete')).toEqual({ type: 'condition', condition: 'Complete', value: 'True' });
    expect(parseWaitFor('condition=Ready=false')).toEqual({ type: 'condition', condition: 'Ready', value: 'false' });
    expect(parseWaitFor('delete')).toEqual({ type: 'delete' });
    expect(parseWaitFor('create')).toEqual({ type: 'create' });
    expect(parseWaitFor('jsonpath={.status.containerStatuses[0].ready}=true')).toMatchObject({
      type: 'jsonpath', path: ['status', 'containerStatuses', 0, 'ready'], value: 'true',
    });
    expect(parseWaitFor('jsonpath={.status.podIP}')).toMatchObject({ path: ['status', 'podIP'] });
  });

  it('refuses what it cannot wait for, naming it', () => {
    expect(() => parseWaitFor('ready')).toThrow(CliError);
    expect(() => parseWaitFor('condition=')).toThrow(/condition=NAME/);
    expect(() => parseWaitFor('jsonpath={status}')).toThrow(/jsonpath/);
    expect(() => parseTimeout('soon')).toThrow(/"soon" is not a duration/);
    expect(parseTimeout('0')).toBe(0);
    expect(parseTimeout('1m')).toBe(60_000);
  });

  it('tests conditions (case-insensitively, as kubectl), deletion and fields', () => {
    const ready = pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ ready: true }] });
    expect(waitMet(parseWaitFor('condition=ready'), ready)).toBe(true);
    expect(waitMet(parseWaitFor('condition=Ready=False'), ready)).toBe(false);
    expect(waitMet(parseWaitFor('condition=Ready'), null)).toBe(false);
    expect(waitMet(parseWaitFor('delete'), ready)).toBe(false);
    expect(waitMet(parseWaitFor('delete'), null)).toBe(true);
    expect(waitMet(parseWaitFor('create'), null)).toBe(false);
    expect(waitMet(parseWaitFor('create'), ready)).toBe(true);
    expect(waitMet(parseWaitFor('jsonpath={.status.phase}=Running'), ready)).toBe(true);
    expect(waitMet(parseWaitFor('jsonpath={.status.containerStatuses[0].ready}=true'), ready)).toBe(true);
    expect(waitMet(parseWaitFor('jsonpath={.status.podIP}'), ready)).toBe(false);
  });

  it('names objects as kubectl does', () => {
    expect(resourceName(JobKind, 'pi')).toBe('job.batch/pi');
    expect(resourceName(PodKind, 'web')).toBe('pod/web');
  });
});
