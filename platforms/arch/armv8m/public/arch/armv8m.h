// ARMv8-M Mainline support shared by mps2_an521 and rp2350: vector table and reset
// handler (start.S), and the execution mode report.
#ifndef ARCH_ARMV8M_H_
#define ARCH_ARMV8M_H_

// "mode=<thread|handler>-<secure|nonsecure>", measured from IPSR and a TT probe.
const char *armv8m_privilege(void);

#endif  // ARCH_ARMV8M_H_
