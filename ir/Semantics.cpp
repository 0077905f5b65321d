#include "ir/Semantics.h"
