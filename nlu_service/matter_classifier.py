"""Rasa component: which matter (事项) a message is about, learnt from whole messages.

The bot's resolver finds matters by their names and aliases. People often name neither
(「我爸八十多了国家发的那个钱咋领」): this classifier learns the matter from the words around
it, on the same features as the intent classifier. Each training example carries its matter in
its metadata (`matter: <id>`, or `-` for none), written by `bot train` from the labelled
training files; examples without one are not used. The parse result gains `matter_ranking`.

Runs inside Rasa's virtual environment (imported by name from nlu_data/config.yml).
"""

from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix
from sklearn.linear_model import SGDClassifier

MATTER_RANKING = "matter_ranking"
RANKING_LENGTH = 5


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class MatterClassifier(LogisticRegressionClassifier):
    """A linear model over the featurizers' output, labels from the examples' metadata.

    Logistic loss as in Rasa's intent classifier, but trained by stochastic gradient descent:
    lbfgs over ~90 classes and every character n-gram took over a minute of each training on
    2 cores; a fixed number of SGD passes takes seconds.
    """

    def __init__(self, config: dict[str, Any], name: str, model_storage: ModelStorage,
                 resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf = SGDClassifier(
            loss="log_loss",
            alpha=self.config["alpha"],
            max_iter=self.config["max_iter"],
            tol=None,  # always max_iter passes: the same model on every machine
            class_weight="balanced",
            random_state=self.config["random_state"],
        )
        self._weights: np.ndarray | None = None  # coef_ transposed, contiguous, once loaded

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "alpha": 1e-4,
                "max_iter": 50}

    def _create_training_matrix(
        self, training_data: TrainingData
    ) -> tuple[csr_matrix, list[str]]:
        examples, labels = [], []
        for example in training_data.intent_examples:
            matter = (example.get("metadata") or {}).get("example", {}).get("matter")
            if example.get("text") and matter:
                examples.append(example)
                labels.append(str(matter))
        return self._create_X(examples), labels

    def process(self, messages: list[Message]) -> list[Message]:
        if not hasattr(self.clf, "classes_"):  # trained without labelled examples
            return messages
        probabilities = self._probabilities(self._create_X(messages))
        for index, message in enumerate(messages):
            ranking: list[dict[str, Any]] = sorted(
                ({"name": str(name), "confidence": float(p)}
                 for name, p in zip(self.clf.classes_, probabilities[index], strict=True)),
                key=lambda item: -item["confidence"],
            )
            message.set(MATTER_RANKING, ranking[:RANKING_LENGTH], add_to_output=True)
        return messages

    def _probabilities(self, features: csr_matrix) -> np.ndarray:
        """scikit-learn's predict_proba for this model (one-vs-rest logistic, normalised), with
        the weights kept row-major: multiplying a sparse row by sklearn's transposed view took
        over 20 ms a message, by a contiguous copy well under one."""
        if self._weights is None:
            self._weights = np.ascontiguousarray(self.clf.coef_.T)
        scores = np.asarray(features @ self._weights) + self.clf.intercept_
        probabilities = 1.0 / (1.0 + np.exp(-scores))
        return probabilities / probabilities.sum(axis=1, keepdims=True)
