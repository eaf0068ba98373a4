// kubectl's columns for ServiceAccounts and the RBAC kinds (pkg/printers/internalversion).

import type { ColumnDefinition, Printer } from './printers.js';
import type { ClusterRoleBinding, KObject, RoleBinding, ServiceAccount } from './types.js';
import { humanAge } from '../util/time.js';

function col(name: string, type: ColumnDefinition['type'] = 'string', priority = 0, format = '', description = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}

const NAME = col('Name', 'string', 0, 'name', 'Name must be unique within a namespace.');
const AGE = col('Age', 'string', 0, '', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const CREATED_AT = col('Created At', 'date', 0, '', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

const age = (o: KObject, now: number) => humanAge(o.metadata.creationTimestamp, now);

const serviceaccounts: Printer = {
  columns: [NAME, col('Secrets', 'string', 0, '', 'Secrets is the list of secrets allowed to be used by pods running using this ServiceAccount.'), AGE],
  cells: (o, now) => [o.metadata.name!, (o as ServiceAccount).secrets?.length ?? 0, age(o, now)],
};

const roles: Printer = {
  columns: [NAME, CREATED_AT],
  cells: (o) => [o.metadata.name!, o.metadata.creationTimestamp ?? ''],
};

function bindingCells(b: RoleBinding | ClusterRoleBinding, now: number): (string | number)[] {
  const subjects = b.subjects ?? [];
  const of = (kind: string, fmt: (s: (typeof subjects)[number]) => string) => subjects.filter((s) => s.kind === kind).map(fmt).join(', ');
  return [
    b.metadata.name!,
    `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`,
    age(b, now),
    of('User', (s) => s.name),
    of('Group', (s) => s.name),
    of('ServiceAccount', (s) => `${s.namespace ?? b.metadata.namespace ?? ''}/${s.name}`),
  ];
}

const bindings: Printer = {
  columns: [
    NAME,
    col('Role', 'string', 0, '', 'Role references a role, but does not contain it.'),
    AGE,
    col('Users', 'string', 1, '', 'Users in the binding'),
    col('Groups', 'string', 1, '', 'Groups in the binding'),
    col('ServiceAccounts', 'string', 1, '', 'ServiceAccounts in the binding'),
  ],
  cells: (o, now) => bindingCells(o as RoleBinding, now),
};

export const RBAC_PRINTERS: Record<string, Printer> = {
  serviceaccounts,
  roles,
  clusterroles: roles,
  rolebindings: bindings,
  clusterrolebindings: bindings,
};
