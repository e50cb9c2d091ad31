"""Rasa component: the intent, and which matter (事项) a message is about, from one reading.

The intent model is Rasa's LogisticRegressionClassifier (same settings, same results). The bot's
resolver finds matters by their names and aliases; people often name neither
(「我爸八十多了国家发的那个钱咋领」), so a second linear model learns the matter from the words
around it, on the same features. Each training example carries its matter in its metadata
(`matter: <id>`, or `-` for none), written by `bot train` from the labelled training files;
examples without one train the intent only. The parse result has Rasa's `intent` and
`intent_ranking`, and `matter_ranking`.

One component for both because a parse was mostly reading the features, not the models: each
of Rasa's classifiers combined every featurizer's sequence and sentence features with scipy's
hstack (1.5 ms a message) and its intent model multiplied them by a transposed (Fortran) view of
its weights (another millisecond). This one reads the sentence features once, straight into one
sparse row, and keeps both models' weights row-major: a parse in Rasa went from 4.2 to 1.3 ms,
with the same probabilities.

Runs inside Rasa's virtual environment (imported by name from nlu_data/config.yml).
"""

import logging
from typing import Any

import numpy as np
import skops.io as sio
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from scipy.sparse import coo_matrix, csr_matrix
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.linear_model import SGDClassifier
from sklearn.utils.extmath import softmax

MATTER_RANKING = "matter_ranking"
MATTER_RANKING_LENGTH = 5
INTENT_FILE = "intent.skops"
MATTER_FILE = "matter.skops"

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class IntentMatterClassifier(LogisticRegressionClassifier):
    """Rasa's logistic regression for the intent, plus one for the matter.

    The matter's is logistic loss too, but trained by stochastic gradient descent: lbfgs over
    ~90 classes and every character n-gram took over a minute of each training on 2 cores; a
    fixed number of SGD passes takes seconds. Both models have more than two classes (twenty
    intents, ~90 matters): the probabilities below are those of multiclass models.
    """

    def __init__(self, config: dict[str, Any], name: str, model_storage: ModelStorage,
                 resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.matter_clf = SGDClassifier(
            loss="log_loss",
            alpha=self.config["matter_alpha"],
            max_iter=self.config["matter_max_iter"],
            tol=None,  # always max_iter passes: the same model on every machine
            class_weight="balanced",
            random_state=self.config["random_state"],
        )
        # coef_ transposed, contiguous: a sparse row times sklearn's transposed (Fortran) view
        # takes a millisecond, times a row-major copy a few microseconds.
        self._intent_weights: np.ndarray | None = None
        self._matter_weights: np.ndarray | None = None

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "matter_alpha": 1e-4,
                "matter_max_iter": 50}

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        """One row a message: its sentence features, featurizer after featurizer, sparse then
        dense — the matrix Rasa's classifier builds, without the sequence features it drops."""
        indices: list[np.ndarray] = [np.zeros(0, np.int32)]
        data: list[np.ndarray] = [np.zeros(0)]
        indptr = [0]
        width = 0
        for message in messages:
            offset, nnz = 0, indptr[-1]
            for feature in _sentence_features(message):
                # coo: what the featurizers give (tocoo() is then no copy), one row
                block = coo_matrix(feature.features) if feature.is_dense() \
                    else feature.features.tocoo()
                indices.append(block.col + offset)
                data.append(block.data)
                offset += block.shape[1]
                nnz += block.nnz
            indptr.append(nnz)
            width = max(width, offset)
        return csr_matrix((np.concatenate(data), np.concatenate(indices), indptr),
                          shape=(len(messages), width))

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug(f"Cannot train '{self.__class__.__name__}': no examples.")
            return self._resource
        features = self._create_X(examples)
        self.clf.fit(features, [e.get(INTENT) for e in examples])
        matters = [(row, str(_matter(e))) for row, e in enumerate(examples) if _matter(e)]
        if matters:
            rows, labels = zip(*matters, strict=True)
            self.matter_clf.fit(features[list(rows)], list(labels))
        self._keep_weights()
        self.persist()
        return self._resource

    def _keep_weights(self) -> None:
        self._intent_weights = _row_major(self.clf)
        self._matter_weights = _row_major(self.matter_clf)

    def process(self, messages: list[Message]) -> list[Message]:
        if not messages or self._intent_weights is None:  # nothing to read, or untrained
            return messages
        features = self._create_X(messages)
        intents = softmax(features @ self._intent_weights + self.clf.intercept_)
        matters = None
        if self._matter_weights is not None:  # one-vs-rest logistic, normalised (sklearn's)
            matters = expit(features @ self._matter_weights + self.matter_clf.intercept_)
            matters /= matters.sum(axis=1, keepdims=True)
        for row, message in enumerate(messages):
            ranking = _ranking(self.clf.classes_, intents[row], self.config[RANKING_LENGTH])
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
            if matters is not None:
                message.set(MATTER_RANKING, _ranking(self.matter_clf.classes_, matters[row],
                                                     MATTER_RANKING_LENGTH), add_to_output=True)
        return messages

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump(self.clf, model_dir / INTENT_FILE)
            if hasattr(self.matter_clf, "classes_"):
                sio.dump(self.matter_clf, model_dir / MATTER_FILE)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "IntentMatterClassifier":
        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as model_dir:
                # trusted=False: a file holding types skops does not trust is refused
                component.clf = sio.load(model_dir / INTENT_FILE, trusted=False)
                if (model_dir / MATTER_FILE).exists():
                    component.matter_clf = sio.load(model_dir / MATTER_FILE, trusted=False)
        except ValueError:  # trained without examples: nothing was stored
            logger.debug(f"No trained '{cls.__name__}' in resource '{resource.name}'.")
            return component
        component._keep_weights()
        return component


def _matter(example: Message) -> Any:
    return (example.get("metadata") or {}).get("example", {}).get("matter")


def _row_major(model: BaseEstimator) -> np.ndarray | None:
    if not hasattr(model, "coef_"):
        return None
    return np.ascontiguousarray(model.coef_.T)


def _ranking(classes: np.ndarray, probabilities: np.ndarray,
             length: int) -> list[dict[str, Any]]:
    """The classes by probability, the most likely first (ties in class order, as Rasa's)."""
    order = np.argsort(-probabilities, kind="stable")
    if length > 0:
        order = order[:length]
    return [{"name": str(classes[i]), "confidence": float(probabilities[i])} for i in order]


def _sentence_features(message: Message) -> list[Features]:
    """The message's sentence features in the order of Rasa's classifier: sparse ones first,
    each kind in featurizer order."""
    features = [f for f in message.features
                if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
    return sorted(features, key=lambda f: f.is_dense())
