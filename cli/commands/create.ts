import { Args, Flags } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../base-command';
import { appliedConfiguration } from '../apply-merge';
import { withClient } from '../client';
import { dryRunFlag, dryRunSuffix } from '../dry-run';
import { type ManifestDoc } from '../manifest-reader';
import { fileFlags, forEachObject, readObjects, validateFlag } from '../manifest-flags';
import { CliError } from '../errors';
import {
  AlreadyExistsError, CRONJOB_INSTANTIATE, CronJobKind, isNotFound, jobFromCronJob, JobKind, type CronJob, type KubeObject,
  resourceName,
} from '../../messages';

/**
 * `mk create -f FILE|DIR|-`: reads and validates every document first, then creates each object
 * (AlreadyExists when it is there) and prints `pod/NAME created`. `mk create namespace NAME`
 * makes a namespace without a file, as kubectl's does.
 */
export default class Create extends MkCommand {
  static override summary = 'Create objects from a file or stdin';
  static override examples = [
    '<%= config.bin %> create -f examples/demo-pod.yaml',
    '<%= config.bin %> create -f pod.yaml --save-config',
    '<%= config.bin %> create namespace team-a',
    '<%= config.bin %> create job backup-now --from=cronjob/backup',
  ];
  static override args = {
    what: Args.string({ description: 'namespace (or ns), or job with --from, to create one without a file', required: false }),
    name: Args.string({ description: 'the name of the namespace or Job', required: false }),
  };
  static override flags = {
    ...namespaceFlags,
    ...fileFlags(false),
    ...validateFlag,
    'save-config': Flags.boolean({ description: 'record the configuration in the annotation mk apply reads, so a later apply merges with it', default: false }),
    ...dryRunFlag,
    from: Flags.string({ description: 'with `create job NAME`: the CronJob whose template the Job is made from (cronjob/NAME)' }),
  };

  /** Creates every object; one line each; exit 1 when any failed. */
  async run(): Promise<void> {
    const { args, flags } = await this.parse(Create);
    if (flags.filename && args.what) throw new CliError('give either -f or a namespace to create, not both');
    if (flags.from !== undefined || (args.what !== undefined && ['job', 'jobs'].includes(args.what))) {
      await this.jobFromCronJob(args.what, args.name, flags.from, flags.namespace, flags['dry-run'], this.dataDir(flags['data-dir']));
      return;
    }
    const { docs, mode } = await readObjects(flags, flags.filename ? undefined : imperative(args.what, args.name));
    const dryRun = flags['dry-run'];
    let failed = false;
    await withClient(this.dataDir(flags['data-dir']), async ({ api }) => {
      failed = await forEachObject(docs, flags.namespace, async (d, namespace) => {
        const name = d.object.metadata.name;
        const object = flags['save-config'] ? appliedConfiguration(d.object, d.kind, namespace) : d.object;
        for (const w of new Set(d.warnings)) this.err(`Warning: ${w}`);
        if (dryRun === 'client') {
          const exists = await api.get(d.kind, namespace, name).then(() => true, (e: unknown) => {
            if (isNotFound(e)) return false;
            throw e;
          });
          if (exists) throw new AlreadyExistsError(`${d.kind.plural} "${name}" already exists`);
        } else {
          await api.create({ object, validate: mode, ...(namespace ? { namespace } : {}), ...(dryRun === 'server' ? { dryRun: true } : {}) });
        }
        this.out(`${resourceName(d.kind, name)} created${dryRunSuffix(dryRun)}\n`);
      });
    });
    if (failed) this.exit(1);
  }

  /**
   * `mk create job NAME --from=cronjob/CJ`: a Job from the CronJob's template, owned by it, with
   * the annotation cronjob.kubernetes.io/instantiate=manual (kubectl's habit).
   */
  private async jobFromCronJob(what: string | undefined, name: string | undefined, from: string | undefined,
    namespace: string | undefined, dryRun: string, dataDir: string): Promise<void> {
    if (what === undefined || !['job', 'jobs'].includes(what)) throw new CliError('--from makes a Job: mk create job NAME --from=cronjob/CRONJOB');
    if (!name) throw new CliError('give the name of the Job: mk create job NAME --from=cronjob/CRONJOB');
    if (!from) throw new CliError('mk create job makes a Job from a CronJob: give --from=cronjob/CRONJOB (or -f FILE for any Job)');
    const m = /^(cronjob|cronjobs|cj|cronjob\.batch|cronjobs\.batch)\/(.+)$/i.exec(from);
    if (!m) throw new CliError(`--from="${from}": give the CronJob as cronjob/NAME`);
    await withClient(dataDir, async ({ api }) => {
      const cj = await api.get(CronJobKind, namespace, m[2]) as unknown as CronJob;
      const job = jobFromCronJob(cj, name, { [CRONJOB_INSTANTIATE]: 'manual' }) as unknown as KubeObject;
      if (dryRun === 'client') {
        const exists = await api.get(JobKind, namespace, name).then(() => true, (e: unknown) => {
          if (isNotFound(e)) return false;
          throw e;
        });
        if (exists) throw new AlreadyExistsError(`jobs "${name}" already exists`);
      } else {
        await api.create({ object: job, ...(namespace ? { namespace } : {}), ...(dryRun === 'server' ? { dryRun: true } : {}) });
      }
      this.out(`job.batch/${name} created${dryRunSuffix(dryRun)}\n`);
    });
  }
}

/** `mk create namespace NAME` as a manifest; CliError for anything else without -f. */
function imperative(what: string | undefined, name: string | undefined): ManifestDoc[] {
  if (what === undefined) throw new CliError('give the objects with -f FILE, or create a namespace with: mk create namespace NAME');
  if (!['namespace', 'namespaces', 'ns'].includes(what)) throw new CliError(`mk create makes "${what}" only from a file (-f); without one it makes namespaces: mk create namespace NAME`);
  if (!name) throw new CliError('give the name of the namespace: mk create namespace NAME');
  return [{ source: 'the command line', index: 1, doc: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } }];
}
