import { Args } from '@oclif/core';
import { MkCommand, namespaceFlags } from '../../base-command';
import { withClient } from '../../client';
import { CliError } from '../../errors';
import { parseImages, rolloutTarget, setImage } from '../../rollout';

/** `mk set image deploy/NAME CONTAINER=IMAGE...` (or ds/NAME, sts/NAME): changes containers' images, which starts a rollout. */
export default class SetImage extends MkCommand {
  static override summary = 'Update the images of a deployment\'s, daemon set\'s or stateful set\'s containers';
  static override examples = [
    '<%= config.bin %> set image deploy/web web=nginx:1.27',
    '<%= config.bin %> set image deployment web *=busybox:1.36',
    '<%= config.bin %> set image ds/node-agent agent=busybox:1.37',
  ];
  static override strict = false;
  static override args = {
    targets: Args.string({ description: 'deploy/NAME, ds/NAME or sts/NAME (or deploy NAME) then CONTAINER=IMAGE...', required: true }),
  };
  static override flags = { ...namespaceFlags };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(SetImage);
    const words = argv as string[];
    const images = words.filter((w) => w.includes('='));
    const target = words.filter((w) => !w.includes('='));
    if (target.length === 0) throw new CliError('give the deployment, daemon set or stateful set: deploy/NAME, ds/NAME or sts/NAME');
    const t = rolloutTarget(target, flags.namespace);
    const io = { out: (text: string) => this.out(text) };
    await withClient(this.dataDir(flags['data-dir']), ({ api }) => setImage(api, t, parseImages(images), io));
  }
}
