/**
 * `--label` on the command line: "key=value" (equals), "key=a|b" (in), "key!=value" (not in),
 * "key>=n", "key<=n", "key" (exists), "!key" (not exists).
 */
import { create } from '@bufbuild/protobuf';
import { LabelOperator, LabelRequirementSchema, type LabelRequirement } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';

export function parseLabelFlag(text: string): LabelRequirement {
  const req = (key: string, operator: LabelOperator, values: string[]): LabelRequirement =>
    create(LabelRequirementSchema, { key, operator, values });
  let m: RegExpMatchArray | null;
  if ((m = text.match(/^([^!<>=]+)>=(.+)$/))) return req(m[1]!, LabelOperator.GREATER_OR_EQUAL, [m[2]!]);
  if ((m = text.match(/^([^!<>=]+)<=(.+)$/))) return req(m[1]!, LabelOperator.LESS_OR_EQUAL, [m[2]!]);
  if ((m = text.match(/^([^!<>=]+)!=(.+)$/))) return req(m[1]!, LabelOperator.NOT_IN, m[2]!.split('|'));
  if ((m = text.match(/^([^!<>=]+)=(.+)$/))) {
    const values = m[2]!.split('|');
    return req(m[1]!, values.length > 1 ? LabelOperator.IN : LabelOperator.EQUALS, values);
  }
  if ((m = text.match(/^!([^!<>=]+)$/))) return req(m[1]!, LabelOperator.NOT_EXISTS, []);
  if ((m = text.match(/^([^!<>=]+)$/))) return req(m[1]!, LabelOperator.EXISTS, []);
  throw new Error(`--label "${text}" must look like key=value, key=a|b, key!=value, key>=n, key<=n, key or !key`);
}
