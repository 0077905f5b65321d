"""A valid model cut in the middle of its weights, as an interrupted download leaves it."""
import sys

import models

data = models.conv_relu_model(batch=1).SerializeToString()
with open(sys.argv[1], "wb") as f:
    f.write(data[: len(data) // 2])
