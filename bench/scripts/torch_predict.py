"""The same with torch: load the trained weights, score one value, print."""

import sys

import torch

model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
model.load_state_dict(torch.load(sys.argv[1]))
with torch.inference_mode():
    print(model(torch.tensor([[float(sys.argv[2])]])).item())
