import type jsep from 'jsep';

/** A chain of names read from the scope: `task1.output.x[0]` is `{ root: 'task1', path: ['output', 'x', 0] }`. */
export interface Reference {
  root: string;
  path: (string | number)[];
}

/**
 * Lists the scope reads of a checked tree, in source order, each distinct chain once. A computed index that is
 * not a literal ends the static path (what follows depends on data); the index's own reads are still listed.
 * Function names are not reads.
 */
export function findReferences(ast: jsep.Expression): Reference[] {
  const found = new Map<string, Reference>();
  const add = (reference: Reference) => {
    const key = JSON.stringify([reference.root, ...reference.path]);
    if (!found.has(key)) found.set(key, reference);
  };
  visit(ast, add);
  return [...found.values()];
}

function visit(node: jsep.Expression, add: (reference: Reference) => void): void {
  switch (node.type) {
    case 'Identifier':
      add({ root: (node as jsep.Identifier).name, path: [] });
      return;
    case 'MemberExpression':
      visitChain(node as jsep.MemberExpression, add);
      return;
    case 'CallExpression':
      for (const argument of (node as jsep.CallExpression).arguments) visit(argument, add);
      return;
    case 'ArrayExpression':
      for (const element of (node as jsep.ArrayExpression).elements) if (element) visit(element, add);
      return;
    case 'UnaryExpression':
      visit((node as jsep.UnaryExpression).argument, add);
      return;
    case 'BinaryExpression':
      visit((node as jsep.BinaryExpression).left, add);
      visit((node as jsep.BinaryExpression).right, add);
      return;
    case 'ConditionalExpression': {
      const conditional = node as jsep.ConditionalExpression;
      visit(conditional.test, add);
      visit(conditional.consequent, add);
      visit(conditional.alternate, add);
      return;
    }
    default:
      // Literals read nothing; other node types never survive checkAst.
      return;
  }
}

function visitChain(outermost: jsep.MemberExpression, add: (reference: Reference) => void): void {
  // jsep nests chains inside out (`a.b.c` is member(member(a, b), c)), so unwind to read them in source order.
  const members: jsep.MemberExpression[] = [];
  let base: jsep.Expression = outermost;
  while (base.type === 'MemberExpression') {
    const member = base as jsep.MemberExpression;
    members.unshift(member);
    base = member.object;
  }

  const path: (string | number)[] = [];
  let isStatic = base.type === 'Identifier';
  const dynamicIndexes: jsep.Expression[] = [];
  for (const member of members) {
    const key = staticKey(member);
    if (isStatic && key !== undefined) {
      path.push(key);
    } else {
      isStatic = false;
      if (member.computed) dynamicIndexes.push(member.property);
    }
  }

  if (base.type === 'Identifier') add({ root: (base as jsep.Identifier).name, path });
  else visit(base, add);
  for (const index of dynamicIndexes) visit(index, add);
}

function staticKey(member: jsep.MemberExpression): string | number | undefined {
  if (!member.computed) return (member.property as jsep.Identifier).name;
  if (member.property.type !== 'Literal') return undefined;
  const { value } = member.property as jsep.Literal;
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}
