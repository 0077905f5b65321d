#include "compiler/frontend/OnnxFrontend.h"
