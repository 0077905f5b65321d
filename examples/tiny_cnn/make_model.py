#!/usr/bin/env python3
# Builds the small CNN bundled with kiln's examples (tiny_cnn.onnx) together with a fixed input
# (input.bin) and torch's output for it (expected.bin). The files are committed; this script
# documents how they were made and regenerates them identically: /usr/bin/python3 make_model.py
import os
import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(7)


class TinyCnn(nn.Module):
    """A digit-classifier-shaped network: conv blocks, a residual add, pooling and a classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.conv3 = nn.Conv2d(8, 16, 1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.pool(y + torch.relu(self.conv2(y)))
        y = nn.functional.hardswish(self.conv3(y))
        y = torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1)
        return torch.softmax(self.fc(y), dim=1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    model = TinyCnn()
    # Recalibrate BatchNorm on random data so activations stay O(1).
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
            m.reset_running_stats()
    with torch.no_grad():
        for _ in range(8):
            model(torch.randn(4, 1, 28, 28))
    model.eval()
    x = torch.randn(1, 1, 28, 28)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x, os.path.join(here, "tiny_cnn.onnx"), opset_version=13,
                      input_names=["image"], output_names=["probabilities"])
    x.numpy().astype(np.float32).tofile(os.path.join(here, "input.bin"))
    y.numpy().astype(np.float32).tofile(os.path.join(here, "expected.bin"))
    print("probabilities:", np.round(y.numpy()[0], 4))


if __name__ == "__main__":
    main()
