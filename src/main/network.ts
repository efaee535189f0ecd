// Which network interfaces are up, for the air-gap warning (DESIGN.md, "Air
// gap": the app "warns loudly when a non-loopback network interface is up").
import type { NetworkInterfaceInfo } from 'node:os';

/**
 * Names of the interfaces that have at least one non-internal (non-loopback)
 * address, sorted. Node lists only interfaces that have an address, so an
 * interface that is administratively down does not appear. An interface with
 * only an IPv6 link-local address still counts: its link is up, and a
 * ceremony workstation should have none. Erring towards a warning is the
 * point.
 */
export function listNetworkInterfacesUp(
  interfaces: Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>>,
): string[] {
  return Object.entries(interfaces)
    .filter(([, addresses]) => (addresses ?? []).some((address) => !address.internal))
    .map(([name]) => name)
    .sort();
}
