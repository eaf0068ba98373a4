// The agent (kubelet of one Docker host) as a server component, and the pieces other parts may use.

import './dockerode-lean.js';
import type { Component } from '../server/component.js';
import { Agent, type AgentOptions } from './agent.js';

export { Agent, type AgentOptions } from './agent.js';
export { DockerRuntime } from './docker.js';
export { LABELS } from './labels.js';

export function createAgent(opts: AgentOptions = {}): Component {
  return new Agent(opts);
}
