"""Two ensembles in the total-angular-momentum basis: the steady state of Eqs. (4), (8), (9).

The state is |psi> = sum_J c_J |J, -J> (Eq. 4) with

    c_{J+1} / c_J = -(Delta - i chi (J+1)) / Omega * B_{J,-J} / A_{J+1,-J-1}        (Eq. 9)

where Delta = delta_1 - delta_2 = 2 delta_1, A_{J,m} = sqrt((J-m)(J+m+1)) (Eq. 6, the matrix
element of S_1^+ + S_2^+) and B_{J,m} = <J+1, m|S_1^z - S_2^z|J, m> (Eq. 7). The recurrence is
summed in log space, so S up to 10^6 and beyond costs O(S).

Observables never need the (2S+1)^2 product vector: every one-body operator of two ensembles is
a combination of the total spin J^a = S_1^a + S_2^a and the difference D^a = S_1^a - S_2^a,
whose matrix elements between |J, m> states are known in closed form (Eqs. 6, 7, A11, A12).
Acting once on |psi> only reaches |J', -J' + q> with q in {0, 1, 2}; an image is stored as an
array ``img[q, J']``, so <psi|A B|psi> = <A psi|B psi> costs O(S) for any A, B.
"""

from __future__ import annotations

import numpy as np

from labctl.sim.clebsch import lowest_weight_amplitudes
from labctl.sim.spin import dimension


def coefficients(spin: float, delta_diff: float, rabi: float, chi: float = 0.0) -> np.ndarray:
    """Normalised c_J, J = 0..2S, of the two-ensemble steady state (Eqs. 8, 9).

    ``delta_diff`` is Delta = delta_1 - delta_2; ``rabi = inf`` gives the large-drive limit
    |J=0, M=0> (Sec. III.B).
    """
    two_s = int(round(2 * spin))
    if np.isinf(rabi):
        c = np.zeros(two_s + 1, dtype=complex)
        c[0] = 1.0
        return c
    j = np.arange(two_s, dtype=float)  # ratio c_{J+1}/c_J for J = 0..2S-1
    # numerator -(Delta - i chi (J+1)) = -Delta + i chi (J+1), kept in polar form
    chi_j = chi * (j + 1)
    with np.errstate(divide="ignore"):
        log_ratio = 0.5 * np.log((delta_diff**2 + chi_j**2) * b_coefficient(spin, j) ** 2 / (2 * j + 2)) - np.log(rabi)
    log_mag = np.empty(two_s + 1)
    log_mag[0] = 0.0
    np.cumsum(log_ratio, out=log_mag[1:])
    log_mag -= log_mag.max()
    mag = np.exp(log_mag)
    mag /= np.linalg.norm(mag)
    if chi == 0.0:  # real coefficients: the phase alternates with the sign of -Delta
        return (mag * np.where(np.arange(two_s + 1) % 2 & (delta_diff > 0), -1.0, 1.0)).astype(complex)
    phase = np.empty(two_s + 1)
    phase[0] = 0.0
    np.cumsum(np.arctan2(chi_j, -delta_diff), out=phase[1:])
    return mag * np.exp(1j * phase)


def product_vector(spin: float, c: np.ndarray) -> np.ndarray:
    """Product-basis amplitudes sum_J c_J <m1 m2|J, -J> (length (2S+1)^2, ensemble 1 first)."""
    d = dimension(spin)
    psi = np.zeros((d, d), dtype=complex)
    for c_j, (i1, i2, cg) in zip(c, lowest_weight_amplitudes(spin)):
        psi[i1, i2] += c_j * cg
    return psi.reshape(-1)


def b_coefficient(spin: float, j: np.ndarray) -> np.ndarray:
    """B_{J,-J} = <J+1, -J| S_1^z - S_2^z |J, -J> = sqrt((2S-J)(2S+J+2)/(2J+3)) (Eq. 7 at m = -J)."""
    return np.sqrt(np.clip((2 * spin - j) * (2 * spin + j + 2), 0, None) / (2 * j + 3))


def _b_lower(spin: float, j: np.ndarray) -> np.ndarray:
    """B^-_{J,-J} = <J+1, -J-1| S_1^- - S_2^- |J, -J> (Eq. A12 at m = -J)."""
    return np.sqrt(np.clip((2 * spin - j) * (2 * spin + j + 2), 0, None) * (2 * j + 2) / (2 * j + 3))


def _b_raise(spin: float, j: np.ndarray) -> np.ndarray:
    """B^+_{J,-J} = <J+1, -J+1| S_1^+ - S_2^+ |J, -J> (Eq. A11 at m = -J; negative)."""
    return -np.sqrt(np.clip((2 * spin - j) * (2 * spin + j + 2), 0, None) * 2 / ((2 * j + 1) * (2 * j + 3)))


def _b_lower_down(spin: float, j: np.ndarray) -> np.ndarray:
    """<J-1, -J+1| S_1^+ - S_2^+ |J, -J> = B^-_{J-1,-J+1} (Eq. A12, Hermitian conjugate), J >= 1."""
    return np.sqrt(np.clip((2 * spin - j + 1) * (2 * spin + j + 1), 0, None) * 2 * j / (2 * j + 1))


Image = dict[int, np.ndarray]  # q -> amplitudes of |J, -J + q>, indexed by J


def inner(a: Image, b: Image) -> complex:
    """<a|b> for two images."""
    return sum((np.vdot(a[q], b[q]) for q in a.keys() & b.keys()), 0.0 + 0.0j)


class PairAlgebra:
    """One-body operators of two ensembles acting on sum_J c_J |J, -J>.

    ``image(coeffs)`` returns A|psi> for A = sum_{l, a} coeffs[l, a] S_l^a (l = 0, 1; a = x, y, z)
    as a dict {q: amplitudes of |J, -J + q> indexed by J}, q in {0, 1, 2}. With S_1 = (J + D)/2,
    S_2 = (J - D)/2, S^x = (S^+ + S^-)/2 and S^y = (S^+ - S^-)/(2i), every such A is a combination
    of the primitives J^+, J^z, D^+, D^-, D^z (J^- annihilates every |J, -J>).
    """

    def __init__(self, spin: float, c: np.ndarray):
        self.spin = spin
        self.c = c
        self._j = np.arange(c.size, dtype=float)

    @property
    def state(self) -> Image:
        """|psi> itself."""
        return {0: self.c}

    def image(self, coeffs: np.ndarray) -> Image:
        """A|psi> for the Hermitian combination A = sum coeffs[l, a] S_l^a (coeffs shape (2, 3))."""
        total = (coeffs[0] + coeffs[1]) / 2  # weights of J^x, J^y, J^z
        diff = (coeffs[0] - coeffs[1]) / 2  # weights of D^x, D^y, D^z
        terms = (
            (total[0] / 2 + total[1] / 2j, self._j_plus),
            (total[2], self._j_z),
            (diff[0] / 2 + diff[1] / 2j, self._d_plus),
            (diff[0] / 2 - diff[1] / 2j, self._d_minus),
            (diff[2], self._d_z),
        )
        out: Image = {}
        for weight, primitive in terms:
            if weight != 0:
                for q, amplitudes in primitive().items():
                    out[q] = out[q] + weight * amplitudes if q in out else weight * amplitudes
        return out

    @staticmethod
    def _up(v: np.ndarray) -> np.ndarray:
        """Move amplitudes from J to J + 1 (the top one, J = 2S, has a zero matrix element)."""
        out = np.empty_like(v)
        out[0] = 0.0
        out[1:] = v[:-1]
        return out

    @staticmethod
    def _down(v: np.ndarray) -> np.ndarray:
        """Move amplitudes from J to J - 1 (J = 0 has a zero matrix element)."""
        out = np.empty_like(v)
        out[-1] = 0.0
        out[:-1] = v[1:]
        return out

    def _j_plus(self) -> Image:  # J^+ |J,-J> = sqrt(2J) |J,-J+1>                  (Eq. 6)
        return {1: np.sqrt(2 * self._j) * self.c}

    def _j_z(self) -> Image:
        return {0: -self._j * self.c}

    def _d_z(self) -> Image:  # D^z |J,-J> = B_{J,-J} |J+1,-J>                      (Eq. 7)
        return {1: self._up(b_coefficient(self.spin, self._j) * self.c)}

    def _d_plus(self) -> Image:  # to |J+1,-J+1> (A11) and |J-1,-J+1> (A12, conjugated)
        return {
            2: self._up(_b_raise(self.spin, self._j) * self.c),
            0: self._down(_b_lower_down(self.spin, self._j) * self.c),
        }

    def _d_minus(self) -> Image:  # D^- |J,-J> = B^-_{J,-J} |J+1,-J-1>              (A12)
        return {0: self._up(_b_lower(self.spin, self._j) * self.c)}
