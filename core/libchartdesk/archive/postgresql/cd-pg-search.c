#include "config.h"
#include "cd-error.h"
#include "cd-pg-private.h"
