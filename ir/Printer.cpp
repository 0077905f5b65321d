#include "ir/Printer.h"
