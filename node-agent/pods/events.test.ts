import type { PodStatus } from '../../messages/pod';
import { backoffEvents } from './events';
import { makePod } from './fixtures';

const waiting = (reason?: string): PodStatus => ({
  phase: 'Pending',
  containerStatuses: [{ name: 'app', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: reason ? { waiting: { reason } } : { running: { startedAt: 'x' } }, lastState: {} }],
} as PodStatus);

describe('backoffEvents', () => {
  const pod = makePod();

  it('says BackOff once when a container enters CrashLoopBackOff', () => {
    expect(backoffEvents(pod, waiting(), waiting('CrashLoopBackOff'))).toEqual([
      { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app in pod web_default(uid-1)' },
    ]);
    expect(backoffEvents(pod, waiting('CrashLoopBackOff'), waiting('CrashLoopBackOff'))).toEqual([]);
  });

  it('says BackOff pulling the image for ImagePullBackOff, nothing for other reasons', () => {
    expect(backoffEvents(pod, waiting('ErrImagePull'), waiting('ImagePullBackOff'))).toEqual([
      { type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "${pod.spec.containers[0].image}"` },
    ]);
    expect(backoffEvents(pod, undefined, waiting('ContainerCreating'))).toEqual([]);
  });
});
