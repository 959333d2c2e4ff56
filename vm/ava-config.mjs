// ava configuration for the kernel matrix (vm/run-matrix.mjs), given to test/run.mjs with
// --config. It differs from package.json's only where the matrix needs it: the compiled tree
// may be another outDir (NBX_VM_DIST, e.g. dist-vm, so a matrix run does not rebuild the dist/
// others work with), and under TCG emulation a test file can go minutes without finishing a
// test, so the idle timeout is set by the runner (NBX_VM_AVA_TIMEOUT).
const dist = process.env.NBX_VM_DIST || 'dist';

export default {
  files: [`${dist}/test/**/*.test.js`],
  timeout: process.env.NBX_VM_AVA_TIMEOUT || '3m',
  workerThreads: false,
  concurrency: Number(process.env.NBX_VM_CONCURRENCY || 2),
};
