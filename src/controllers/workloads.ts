// The controllers of issue 14's kinds, started with the others by the 'controllers' component.

import type { Component } from '../server/component.js';
import { CronJobController } from './cronjob.js';
import { JobController } from './job.js';

export { CronJobController } from './cronjob.js';
export { JobController } from './job.js';

export function workloadControllers(): Component[] {
  return [new JobController(), new CronJobController()];
}
