// The kernel modules an image keeps. Dependencies (including softdeps) are
// resolved later from the kernel's own metadata with `modprobe --show-depends`.
// "required": the image cannot work without it (missing -> build error naming it).
// "optional": hardware support; kept when the kernel has it.

/** Everything Docker's engine, overlay2 storage and bridge networking need. */
export const DOCKER_MODULES = [
  'overlay', 'bridge', 'veth', 'br_netfilter', 'nf_tables', 'nft_compat', 'nft_chain_nat', 'nft_ct', 'nft_masq',
  'nft_nat', 'nf_nat', 'nf_conntrack', 'xt_MASQUERADE', 'xt_conntrack', 'xt_addrtype', 'xt_nat', 'xt_mark',
  'xt_comment', 'xt_multiport', 'xt_tcpudp', 'ip_tables', 'iptable_nat', 'iptable_filter', 'ip6_tables',
  'ip6table_nat', 'ip6table_filter', 'nf_reject_ipv4', 'ipt_REJECT', 'tun',
] as const;

/**
 * Swarm mode: overlay networks are VXLAN (the ingress network that publishes a
 * service's ports among them), services balance through IPVS with the schedulers
 * libnetwork names, and encrypted overlays are ESP in transport mode with
 * rfc4106(gcm(aes)) keys installed over XFRM netlink and matched with the policy and
 * u32 matches. Without them `docker service create -p` fails with "error creating
 * vxlan interface: operation not supported" and dockerd warns that it could not load
 * the IPSEC modules. macvlan and ipvlan are Docker's other multi-host drivers.
 */
export const SWARM_MODULES = [
  'vxlan', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'xt_ipvs', 'xt_REDIRECT', 'xfrm_user', 'esp4', 'esp6',
  'xt_policy', 'xt_u32', 'xt_bpf', 'gcm', 'ghash_generic', 'ghash_clmulni_intel', 'seqiv', 'echainiv', 'authenc', 'macvlan', 'ipvlan', 'dummy',
] as const;

/** Storage: disks, CD, USB sticks, SD cards and the file systems on them. */
export const STORAGE_MODULES = [
  'virtio_pci', 'virtio_blk', 'virtio_scsi', 'ahci', 'ata_piix', 'ata_generic', 'nvme', 'usb_storage', 'uas',
  'sd_mod', 'sr_mod', 'isofs', 'vfat', 'nls_cp437', 'nls_iso8859_1', 'nls_utf8', 'nls_ascii', 'ext4', 'xhci_pci', 'ehci_pci',
  'ohci_pci', 'uhci_hcd', 'sdhci_pci', 'mmc_block', 'loop', 'dm_mod', 'dm_crypt', 'efivarfs',
] as const;

/** Common wired network adapters, including USB ones. */
export const NET_MODULES = [
  'virtio_net', 'e1000', 'e1000e', 'igb', 'igc', 'r8169', 'tg3', 'bnx2', 'atl1c', 'alx', 'forcedeth', '8139cp',
  '8139too', 'ne2k_pci', 'pcnet32', 'vmxnet3', 'r8152', 'cdc_ether', 'ax88179_178a', 'asix', 'usbnet',
] as const;

/** Input and small platform helpers: USB keyboards, power button, entropy. */
export const MISC_MODULES = ['usbhid', 'hid_generic', 'button', 'virtio_rng', 'virtio_balloon', 'virtio_console', 'aesni_intel', 'xts'] as const;

/** The modules that make a build fail when the chosen kernel lacks them. */
export const REQUIRED_MODULES: readonly string[] = [
  'overlay', 'bridge', 'veth', 'br_netfilter', 'nf_tables', 'nft_chain_nat', 'nft_masq', 'xt_MASQUERADE',
  'xt_conntrack', 'xt_addrtype', 'vxlan', 'ip_vs', 'xt_ipvs', 'xfrm_user', 'esp4', 'isofs', 'sr_mod', 'virtio_blk', 'virtio_net', 'ext4',
];

export function moduleSets(extra: readonly string[], optionalExtra: readonly string[] = []): { required: string[]; optional: string[] } {
  const all = [...DOCKER_MODULES, ...SWARM_MODULES, ...STORAGE_MODULES, ...NET_MODULES, ...MISC_MODULES, ...optionalExtra];
  const required = [...new Set([...REQUIRED_MODULES, ...extra])].sort();
  const optional = [...new Set(all)].filter((m) => !required.includes(m)).sort();
  return { required, optional };
}
