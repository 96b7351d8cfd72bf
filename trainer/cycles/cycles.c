/* cycles.c - the registry of cycles (cycledef.h): every cycle's table entry, by name. */
#include <string.h>

#include "cycles/cycledef.h"

extern const tr_cycle_def tr_cycle_full_def;
extern const tr_cycle_def tr_cycle_incremental_def;
extern const tr_cycle_def tr_cycle_rank_def;
extern const tr_cycle_def tr_cycle_abtest_def;
extern const tr_cycle_def tr_cycle_monitor_def;
extern const tr_cycle_def tr_cycle_drift_def;

const tr_cycle_def *const tr_cycles[] = {
    &tr_cycle_full_def,
    &tr_cycle_incremental_def,
    &tr_cycle_rank_def,
    &tr_cycle_abtest_def,
    &tr_cycle_monitor_def,
    &tr_cycle_drift_def,
    NULL,
};

const tr_cycle_def *tr_cycle_find(const char *name)
{
    for (size_t i = 0; name && tr_cycles[i]; i++)
        if (strcmp(tr_cycles[i]->name, name) == 0)
            return tr_cycles[i];
    return NULL;
}
