/** The Trigger kind's engine (controller.ts, deliverer.ts) and its pure decisions: schedules, filters, delivery, input and capture. */
export { scheduleDecision, type ScheduleClock, type ScheduleDecision, type ScheduleEvent } from './schedule';
export { matchesFilters, type FilterInput } from './filters';
export { decideConcurrency, deliveryPolicy, nextAttemptDelay, type ConcurrencyDecision, type DeliveryPolicy } from './delivery';
export { targetInput } from './input';
export { captureSubjects } from './capture';
export { afterAttempt, nextAttempt, type FiringRecord, type FiringPhase } from './firing';
export { triggerController, TRIGGER_CONTROLLER_COMPONENT } from './controller';
export { FIRING_ANNOTATION, TRIGGER_LABEL } from './deliverer';
