#include "ir/Parser.h"
