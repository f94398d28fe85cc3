import { entityCommands } from '../entities/entity.handler';
import { alertRuleDecider, alertRuleNotFound, alertRuleStream } from './alert-rule.decider';

export const alertRuleCommands = entityCommands(alertRuleDecider, alertRuleStream, alertRuleNotFound);
