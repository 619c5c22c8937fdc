// Types for cluster-key-slot (ioredis's own slot function; it ships none).
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot of a key, hash tags included. */
  export default function keySlot(key: string | Buffer): number;
}
