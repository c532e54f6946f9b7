// Kubernetes Secrets (`k8s`), re-exports only.
export { type K8sProvider, type K8sProviderOptions, k8s } from './secrets.js';
