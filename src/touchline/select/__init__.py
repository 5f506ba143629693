"""Active-learning frame selection (Lightly Worker compatible): inputs, predictions, embeddings, scores, strategies, report and export."""
