/** Parsers of numeric command-line values, with memray's (argparse's) error wording. */
import { InvalidArgumentError } from "./commander/commander.js";

/** A whole number above 0 (argparse's `positive_int`). */
export function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed <= 0) {
    throw new InvalidArgumentError(`${value} is an invalid positive int value`);
  }
  return parsed;
}

/** A whole number, negative allowed (argparse's `int`). */
export function integer(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${value} is not an integer`);
  return Number(value);
}
