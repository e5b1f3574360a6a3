/** Reading /proc/<pid>/mountinfo (proc(5)): shared by mount cleanup and cgroup detection. */

/** Decodes the octal escapes (`\040` for a space) mountinfo uses in paths. */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}
