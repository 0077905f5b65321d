"""A small valid model with a symbolic batch dimension (the happy path of the driver tests)."""
import models

models.save(models.conv_relu_model())
