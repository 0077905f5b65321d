#!/usr/bin/env python3
# Builds the second model of the shared-arena example: a small fully connected classifier
# (tiny_mlp.onnx) for the same 1x1x28x28 image as examples/tiny_cnn, and torch's output for
# tiny_cnn's input.bin (expected_mlp.bin). The files are committed; this script documents how they
# were made and regenerates them identically: /usr/bin/python3 make_model.py
import os
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(11)


class TinyMlp(nn.Module):
    """Flatten, two hidden layers with different activations, softmax over 10 classes."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 16)
        self.fc2 = nn.Linear(16, 16)
        self.fc3 = nn.Linear(16, 10)

    def forward(self, x):
        y = torch.relu(self.fc1(torch.flatten(x, 1)))
        y = torch.tanh(self.fc2(y))
        return torch.softmax(self.fc3(y), dim=1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    model = TinyMlp().eval()
    x = torch.from_numpy(
        np.fromfile(os.path.join(here, "..", "tiny_cnn", "input.bin"), np.float32)
        .reshape(1, 1, 28, 28))
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x, os.path.join(here, "tiny_mlp.onnx"), opset_version=13,
                      input_names=["image"], output_names=["probabilities"])
    y.numpy().astype(np.float32).tofile(os.path.join(here, "expected_mlp.bin"))
    print("probabilities:", np.round(y.numpy()[0], 4))


if __name__ == "__main__":
    main()
