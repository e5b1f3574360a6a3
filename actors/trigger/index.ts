/** The Trigger kind's pure decisions: schedules, filters, delivery and input. Its engine is not here yet. */
export { scheduleDecision, scheduledFiringId, type ScheduleClock, type ScheduleDecision, type ScheduleEvent } from './schedule';
export { matchesFilters, type FilterInput } from './filters';
export { decideConcurrency, deliveryPolicy, nextAttemptDelay, type ConcurrencyDecision, type DeliveryPolicy } from './delivery';
export { targetInput } from './input';
