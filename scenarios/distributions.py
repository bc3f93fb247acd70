"""Duration distributions of a scenario, validated and sampled with numpy.

Every parameter is a duration in minutes (numbers or strings such as
``"20 min"``). A bare duration is shorthand for a constant.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from scenarios.base import Duration, PositiveDuration, Strict


class _Dist(Strict):
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values in minutes (float64, non-negative)."""
        raise NotImplementedError

    @property
    def mean_min(self) -> float:
        """Expected value in minutes."""
        raise NotImplementedError


class Constant(_Dist):
    """Always ``value`` minutes."""

    dist: Literal["constant"] = "constant"
    value: Duration

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # noqa: D102
        return np.full(size, self.value)

    @property
    def mean_min(self) -> float:  # noqa: D102
        return self.value


class Exponential(_Dist):
    """Exponential with the given mean."""

    dist: Literal["exponential"]
    mean: PositiveDuration

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # noqa: D102
        return rng.exponential(self.mean, size)

    @property
    def mean_min(self) -> float:  # noqa: D102
        return self.mean


class _MeanSd(_Dist):
    mean: PositiveDuration
    sd: PositiveDuration

    @property
    def mean_min(self) -> float:
        return self.mean


class LogNormal(_MeanSd):
    """Log-normal given by the mean and standard deviation of the duration itself."""

    dist: Literal["lognormal"]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # noqa: D102
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


class Gamma(_MeanSd):
    """Gamma given by its mean and standard deviation."""

    dist: Literal["gamma"]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # noqa: D102
        shape = (self.mean / self.sd) ** 2
        return rng.gamma(shape, self.sd**2 / self.mean, size)


class TruncatedNormal(_Dist):
    """Normal(mean, sd) restricted to [low, high], sampled by inverse CDF (``scipy.stats.truncnorm``).

    ``high`` left out (or null) means no upper bound. scipy works in log
    space in the tails, so intervals far from the mean stay accurate.
    """

    dist: Literal["truncated_normal"]
    mean: Duration
    sd: PositiveDuration
    low: Duration = 0.0
    high: Duration | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TruncatedNormal:
        high = math.inf if self.high is None else self.high
        if high <= self.low:
            raise ValueError(f"high must exceed low, got low={self.low:g}, high={high:g}")
        if not math.isfinite(self.mean_min):
            raise ValueError("[low, high] holds no probability mass of this normal")
        return self

    def _bounds(self) -> tuple[float, float]:
        high = math.inf if self.high is None else self.high
        return (self.low - self.mean) / self.sd, (high - self.mean) / self.sd

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # noqa: D102
        from scipy.stats import truncnorm  # on first use: scipy.stats costs ~80 MB and 0.5 s to import

        a, b = self._bounds()
        x = truncnorm.ppf(rng.random(size), a, b, loc=self.mean, scale=self.sd)
        return np.clip(x, self.low, math.inf if self.high is None else self.high)

    @property
    def mean_min(self) -> float:  # noqa: D102
        from scipy.stats import truncnorm

        a, b = self._bounds()
        return float(truncnorm.mean(a, b, loc=self.mean, scale=self.sd))


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high must be at least low, got low={self.low:g}, high={self.high:g}")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # noqa: D102
        return self.low + (self.high - self.low) * rng.random(size)

    @property
    def mean_min(self) -> float:  # noqa: D102
        return (self.low + self.high) / 2


class Empirical(_Dist):
    """Resampling of observed values, optionally weighted."""

    dist: Literal["empirical"]
    values: Annotated[list[Duration], Field(min_length=1)]
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def _p(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # noqa: D102
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._p())

    @property
    def mean_min(self) -> float:  # noqa: D102
        p = self._p()
        return float(np.mean(self.values) if p is None else np.dot(p, self.values))


def _shorthand(value: Any) -> Any:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return {"dist": "constant", "value": value}
    return value


_Tagged = Annotated[
    Constant | Exponential | LogNormal | Gamma | TruncatedNormal | Uniform | Empirical,
    Field(discriminator="dist"),
]
#: Any duration distribution; a bare duration means a constant.
Distribution = Annotated[_Tagged, BeforeValidator(_shorthand)]
#: A distribution or null.
OptionalDistribution = Annotated[_Tagged | None, BeforeValidator(_shorthand)]

ZERO = Constant(value=0.0)
