// Every component `kubelite server` runs, in start order. A component disabled with --disable is
// skipped by the server; the rest find each other only through the API.

import type { ServerConfig } from '../config.js';
import type { Component } from './component.js';

export function defaultComponents(_config: ServerConfig): Component[] {
  return [];
}
