/**
 * Interned stacks: a prefix tree where every node is one stack (its frame plus its parent's
 * stack). An allocation keeps only a node id, so equal stacks cost nothing extra and "the same
 * prefix" is cheap to test.
 */

const KEY_PARENT_LIMIT = 2 ** 27;
const KEY_FRAME_LIMIT = 2 ** 26;

/** A growable prefix tree over integer frame ids. Node 0 is the empty stack. */
export class StackTree {
  parent = new Int32Array(1024);
  frame = new Int32Array(1024);
  depth = new Uint32Array(1024);
  count = 1;
  #children = new Map<number, number>();
  #children_big = new Map<string, number>();

  constructor() {
    this.parent[0] = -1;
    this.frame[0] = -1;
  }

  /** The node for `parent`'s stack with `frame_id` pushed on top. */
  child(parent: number, frame_id: number): number {
    const small = parent < KEY_PARENT_LIMIT && frame_id < KEY_FRAME_LIMIT;
    const key = parent * KEY_FRAME_LIMIT + frame_id;
    const found = small ? this.#children.get(key) : this.#children_big.get(`${parent}:${frame_id}`);
    if (found !== undefined) return found;
    if (this.count === this.parent.length) this.#grow();
    const id = this.count++;
    this.parent[id] = parent;
    this.frame[id] = frame_id;
    this.depth[id] = this.depth[parent] + 1;
    if (small) this.#children.set(key, id);
    else this.#children_big.set(`${parent}:${frame_id}`, id);
    return id;
  }

  /** Frame ids of a node, leaf (innermost) first. */
  frames(node: number): number[] {
    const out: number[] = [];
    for (let n = node; n > 0; n = this.parent[n]) out.push(this.frame[n]);
    return out;
  }

  #grow(): void {
    const cap = this.parent.length * 2;
    const grow32 = <T extends Int32Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.parent = grow32(this.parent, (n) => new Int32Array(n));
    this.frame = grow32(this.frame, (n) => new Int32Array(n));
    this.depth = grow32(this.depth, (n) => new Uint32Array(n));
  }
}

/** Interns Python frames (code_id, is_entry, instr_offset) to dense ids. */
export class PythonFrameTable {
  code_id: number[] = [];
  is_entry: number[] = [];
  instr_offset: number[] = [];
  #ids = new Map<number, number>();
  #ids_big = new Map<string, number>();

  intern(code_id: number, is_entry: number, instr_offset: number): number {
    // Offsets fit 2^31 and code ids 2^20 in any real program: one exact Number key.
    const small = code_id < 2 ** 20 && instr_offset > -(2 ** 31) && instr_offset < 2 ** 31;
    const key = (code_id * 2 ** 32 + (instr_offset + 2 ** 31)) * 2 + is_entry;
    const found = small
      ? this.#ids.get(key)
      : this.#ids_big.get(`${code_id}:${instr_offset}:${is_entry}`);
    if (found !== undefined) return found;
    const id = this.code_id.length;
    this.code_id.push(code_id);
    this.is_entry.push(is_entry);
    this.instr_offset.push(instr_offset);
    if (small) this.#ids.set(key, id);
    else this.#ids_big.set(`${code_id}:${instr_offset}:${is_entry}`, id);
    return id;
  }
}

/** Interns native instruction pointers to dense ids. */
export class NativeFrameTable {
  ip: number[] = [];
  #ids = new Map<number, number>();

  intern(ip: number): number {
    const found = this.#ids.get(ip);
    if (found !== undefined) return found;
    const id = this.ip.length;
    this.ip.push(ip);
    this.#ids.set(ip, id);
    return id;
  }
}
