// Kinds whose only difference from the default is one flag.

import type { RegistryStrategy } from '../strategy.js';

/** A Node registers itself with its status (capacity, addresses, conditions). */
export const nodeStrategy: RegistryStrategy = { keepStatusOnCreate: true };

/** Events may still be written about objects in a namespace that is being deleted. */
export const eventStrategy: RegistryStrategy = { allowedInTerminatingNamespace: true };
