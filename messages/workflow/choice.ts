/**
 * A Choice state's rules, as Step Functions evaluates them
 * (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html): typed comparisons,
 * type tests, and/or/not, the first matching rule wins.
 */
import type { ChoiceRule, JsonValue } from './schema';

/** The next state of the first rule that matches `input`, or undefined when none does. Throws StatesError (States.Runtime) as evaluateRule. */
export declare function evaluateChoice(rules: readonly ChoiceRule[], input: JsonValue): string | undefined;
/** Whether `rule` matches `input`; throws StatesError States.Runtime when its variable (or a `...Path` operand) matches nothing, except for isPresent. */
export declare function evaluateRule(rule: ChoiceRule, input: JsonValue): boolean;
