// The package ships no types; ioredis uses it to route commands, we use it to place partitions on slots.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0-16383) of a key, honouring its `{hash tag}`. */
  function calculateSlot(key: string): number;
  export = calculateSlot;
}
