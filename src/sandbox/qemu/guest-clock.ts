import { readFileSync } from 'node:fs';

/** Boot arguments that spare an emulated guest its clock calibration. */
export interface GuestClock {
  tscKhz: number;
  lpj: number;
}

/**
 * Under TCG a share of boots hang calibrating the TSC against the PIT (../shared/REFERENCE.md §5);
 * giving the guest the host's TSC frequency (tsc_early_khz) and loops per jiffy (lpj = kHz × 1000
 * / HZ) skips the calibration. The frequency comes from the first `cpu MHz` of /proc/cpuinfo.
 */
export function guestClock(kernelHz: number, cpuinfo: string = readFileSync('/proc/cpuinfo', 'utf8')): GuestClock {
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1] ?? 2000);
  const tscKhz = Math.round(mhz * 1000);
  return { tscKhz, lpj: Math.round((tscKhz * 1000) / kernelHz) };
}
