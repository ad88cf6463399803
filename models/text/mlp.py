"""A small torch classifier on text vectors: one hidden layer, full-batch Adam, weights as plain arrays."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from models.text.heads import State, TextInputs


class MLPHead:
    """A one-hidden-layer classifier on embeddings, trained full-batch with Adam.

    Args:
        hidden: hidden units.
        epochs: passes over the training set.
        lr: Adam's learning rate.
        weight_decay: L2 penalty, the main guard against over-fitting a few thousand labels.
        dropout: dropout on the hidden layer while training.
        random_state: seed of the weights and dropout.
    """

    name: ClassVar[str] = "mlp"

    def __init__(
        self,
        hidden: int = 64,
        epochs: int = 150,
        lr: float = 3e-3,
        weight_decay: float = 1e-3,
        dropout: float = 0.2,
        random_state: int = 0,
    ) -> None:
        self.hidden, self.epochs, self.lr = hidden, epochs, lr
        self.weight_decay, self.dropout, self.random_state = weight_decay, dropout, random_state
        self.network_: Any = None

    def _network(self, width: int) -> torch.nn.Sequential:
        return torch.nn.Sequential(
            torch.nn.Linear(width, self.hidden),
            torch.nn.GELU(),
            torch.nn.Dropout(self.dropout),
            torch.nn.Linear(self.hidden, 1),
        )

    def fit(self, inputs: TextInputs, y: np.ndarray) -> MLPHead:
        """Train on the inputs' vectors and 0/1 labels `y`."""
        X = inputs.need_vectors("mlp")
        generator = torch.Generator().manual_seed(self.random_state)
        torch.manual_seed(self.random_state)  # dropout draws from the global generator
        self.network_ = self._network(X.shape[1])
        for layer in self.network_:
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.normal_(layer.weight, std=0.05, generator=generator)
                torch.nn.init.zeros_(layer.bias)
        features = torch.as_tensor(np.asarray(X, np.float32))
        targets = torch.as_tensor(np.asarray(y, np.float32))
        optimiser = torch.optim.Adam(self.network_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        self.network_.train()
        for _ in range(self.epochs):
            optimiser.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                self.network_(features)[:, 0], targets
            )
            loss.backward()
            optimiser.step()
        self.network_.eval()
        return self

    def predict(self, inputs: TextInputs) -> np.ndarray:
        """P(negative) of each row."""
        X = inputs.need_vectors("mlp")
        with torch.inference_mode():
            logits = self.network_(torch.as_tensor(np.asarray(X, np.float32)))[:, 0]
        return torch.sigmoid(logits).numpy().astype(np.float64)

    def state(self) -> State:
        """Settings and the network's weights."""
        settings = {"hidden": self.hidden, "dropout": self.dropout, "width": self.network_[0].in_features}
        return settings, {k: v.detach().numpy().copy() for k, v in self.network_.state_dict().items()}

    @classmethod
    def from_state(cls, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> MLPHead:
        """Rebuild a fitted head from `state()`."""
        head = cls(hidden=int(settings["hidden"]), dropout=float(settings["dropout"]))
        head.network_ = head._network(int(settings["width"]))
        head.network_.load_state_dict({k: torch.as_tensor(v) for k, v in arrays.items()})
        head.network_.eval()
        return head
