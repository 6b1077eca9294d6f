# SPDX-License-Identifier: Apache-2.0
"""deploy/check's modules: kustomize (render), schema (Kubernetes models), rules."""
