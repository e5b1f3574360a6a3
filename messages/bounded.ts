/** A zod schema for whole numbers in a range, shared by the kinds' schemas. */
import { z } from 'zod';

/** A whole number in [min, max] (no upper bound without max), with Kubernetes' wording when it is not. */
export function bounded(min: number, max?: number) {
  const inRange = max === undefined ? `must be greater than or equal to ${min}` : `must be between ${min} and ${max}, inclusive`;
  return z.number({ error: (iss) => (iss.input === undefined ? 'Required value' : `Invalid value: ${JSON.stringify(iss.input)}: must be a number`) })
    .superRefine((n, ctx) => {
      if (!Number.isInteger(n)) ctx.addIssue({ code: 'custom', message: `Invalid value: ${n}: must be a whole number` });
      else if (n < min || (max !== undefined && n > max)) ctx.addIssue({ code: 'custom', message: `Invalid value: ${n}: ${inRange}` });
    });
}
