// The controllers of issue 14's kinds, started with the others by the 'controllers' component.

import type { Component } from '../server/component.js';
import { CronJobController } from './cronjob.js';
import { DaemonSetController } from './daemonset.js';
import { JobController } from './job.js';
import { StatefulSetController } from './statefulset.js';
import { VolumeController } from './volume.js';

export { CronJobController } from './cronjob.js';
export { DaemonSetController } from './daemonset.js';
export { JobController } from './job.js';
export { StatefulSetController } from './statefulset.js';
export { VolumeController, defaultStorageClassObject } from './volume.js';

export function workloadControllers(): Component[] {
  return [new VolumeController(), new StatefulSetController(), new DaemonSetController(), new JobController(), new CronJobController()];
}
