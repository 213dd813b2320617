// Arm Power State Coordination Interface (DEN 0022), AArch64 callers.
#ifndef DRIVERS_PSCI_H_
#define DRIVERS_PSCI_H_

#include <stdint.h>

// How firmware is reached: HVC when it sits at EL2 (or QEMU emulates it there), SMC for EL3.
enum psci_conduit { PSCI_HVC, PSCI_SMC };

// Powers on the core with affinity mpidr at entry (x0 = context); returns 0 or a PSCI error.
int psci_cpu_on(enum psci_conduit conduit, uint64_t mpidr, uintptr_t entry, uint64_t context);

#endif  // DRIVERS_PSCI_H_
