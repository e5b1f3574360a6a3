import { processGone, processTag } from './leadership';

describe('process tags on the lease', () => {
  const tag = processTag();
  const linux = tag ? it : it.skip;

  linux('names this process: alive, so not gone', () => {
    expect(tag).toMatch(new RegExp(`^[-0-9a-f]+/pid:\\[\\d+\\]/${process.pid}/\\d+$`));
    expect(processGone(tag)).toBe(false);
  });

  linux('says gone for a pid of this machine that no longer runs, or now runs another process', () => {
    const [boot, pidns, , start] = tag!.split('/');
    expect(processGone(`${boot}/${pidns}/4194303/${start}`)).toBe(true);
    expect(processGone(`${boot}/${pidns}/${process.pid}/1`)).toBe(true);
  });

  linux('never says gone for another machine, boot or pid namespace, or no tag', () => {
    const [boot, pidns, pid, start] = tag!.split('/');
    expect(processGone(`00000000-0000-0000-0000-000000000000/${pidns}/4194303/${start}`)).toBe(false);
    expect(processGone(`${boot}/pid:[1]/4194303/${start}`)).toBe(false);
    expect(processGone(undefined)).toBe(false);
    expect(processGone('garbage')).toBe(false);
    expect(processGone(`${boot}/${pidns}/${pid}`)).toBe(false);
  });
});
