// Loads the official BIP324 CSV vectors copied byte for byte into tests/vectors/.
import { fromHex } from "../layers/bytes.ts";

export type Row = Record<string, string>;

export function readVectors(name: string): Row[] {
  const text = Deno.readTextFileSync(new URL(`./vectors/${name}`, import.meta.url));
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = lines[0].split(",");
  return lines.slice(1).map((line) => {
    const cells = line.split(",");
    if (cells.length !== header.length) throw new Error(`bad row in ${name}: ${line}`);
    return Object.fromEntries(header.map((h, i) => [h, cells[i]]));
  });
}

export const hex = fromHex;
