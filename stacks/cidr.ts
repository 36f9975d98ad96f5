/**
 * Subnet arithmetic done at synth time, so the synthesized JSON holds literal CIDRs that tests
 * and reviewers can read (Terraform's cidrsubnet() would leave an expression behind).
 */

function toInt(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`"${address}" is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/**
 * The `index`-th block of `cidr` extended by `newBits` bits, like Terraform's cidrsubnet().
 * AWS refuses subnets smaller than /28, so so do we.
 */
export function cidrSubnet(cidr: string, newBits: number, index: number): string {
  const [address = '', prefixText = ''] = cidr.split('/');
  const prefix = Number(prefixText);
  const newPrefix = prefix + newBits;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`"${cidr}" has no valid prefix length`);
  if (newPrefix > 28) throw new Error(`${cidr} is too small to split into /${newPrefix} subnets: AWS subnets are at most /28`);
  if (index < 0 || index >= 2 ** newBits) throw new Error(`${cidr} holds ${2 ** newBits} subnets of /${newPrefix}, not ${index + 1}`);
  const size = 2 ** (32 - newPrefix);
  const base = toInt(address) - (toInt(address) % 2 ** (32 - prefix));
  return `${toAddress(base + index * size)}/${newPrefix}`;
}
